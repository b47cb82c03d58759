import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { buildPicture, renderDot, renderMermaid, type Picture } from '../../src/picture/index.js';
import { compileFixture, fixtureCases } from '../helpers/fixtures.js';

const HOSTILE: Picture = {
  title: 'a "quoted" \\ title',
  groups: [{ id: 'g_x', label: 'node "x" | y' }],
  boxes: [
    { id: 'n1', kind: 'frontend', lines: ['10.96.0.1:80', 'cluster IP, TCP'], group: null },
    { id: 'n2', kind: 'endpoint', lines: ['a"b', 'c#d|e'], group: 'g_x' },
  ],
  arrows: [{ from: 'n1', to: 'n2', label: 'x "y" | z', kind: 'internal', local: true }],
};

describe('picture renderers', () => {
  it('DOT escapes quotes, backslashes and newlines and draws local policy dashed', () => {
    const dot = renderDot(HOSTILE);
    expect(dot).toContain('label="a \\"quoted\\" \\\\ title"');
    expect(dot).toContain('n1 [label="10.96.0.1:80\\ncluster IP, TCP"');
    expect(dot).toContain('subgraph cluster_g_x {');
    expect(dot).toContain('n1 -> n2 [label="x \\"y\\" | z", style=dashed];');
  });

  it('Mermaid escapes quotes, # and | as entities', () => {
    const mermaid = renderMermaid(HOSTILE);
    expect(mermaid.split('\n')[0]).toBe('flowchart LR');
    expect(mermaid).toContain('subgraph g_x["node #quot;x#quot; #124; y"]');
    expect(mermaid).toContain('n2["a#quot;b<br/>c#35;d#124;e"]');
    expect(mermaid).toContain('n1 -.->|"x #quot;y#quot; #124; z"| n2');
  });

  it("every fixture's DOT is accepted by Graphviz (where installed)", async (context) => {
    const probe = await execa('dot', ['-V'], { reject: false });
    if (probe.exitCode !== 0) return context.skip('Graphviz dot is not installed');
    for (const fixture of fixtureCases()) {
      const result = await execa('dot', ['-Tsvg'], { input: renderDot(buildPicture(await compileFixture(fixture))), reject: false });
      expect(result.exitCode, `${fixture.name}: ${result.stderr}`).toBe(0);
      expect(String(result.stderr)).toBe('');
    }
  });
});
