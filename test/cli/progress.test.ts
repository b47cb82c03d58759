import { describe, expect, it } from 'vitest';
import { compileGraph, type CompileStep } from '../../src/compile.js';
import { compileStepText, Progress, type ProgressStream } from '../../src/cli/progress.js';

function stream(isTTY: boolean, columns = 80): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, columns, written, write: (text: string) => written.push(text) };
}

describe('Progress', () => {
  it('writes one line, rewritten in place, and erases it at the end on a terminal', () => {
    const out = stream(true);
    const progress = Progress.onStderr({ large: true }, out);
    progress.step('reading 34.3 MB of manifests');
    progress.step('building the routing graph');
    progress.clear();
    progress.clear();
    expect(out.written).toHaveLength(3);
    expect(out.written[0]).toMatch(/^\r\x1b\[2Kkpc: reading 34\.3 MB of manifests \(\d+\.\d s\)$/);
    expect(out.written[1]).toMatch(/^\r\x1b\[2Kkpc: building the routing graph/);
    expect(out.written[2]).toBe('\r\x1b[2K');
  });

  it.each([
    ['stderr is not a terminal', { large: true }, false],
    ['--quiet', { large: true, quiet: true }, true],
    ['the work is small', { large: false }, true],
  ])('stays silent when %s', (_, options, isTTY) => {
    const out = stream(isTTY);
    const progress = Progress.onStderr(options, out);
    progress.step('checking 3 objects');
    progress.clear();
    expect(out.written).toEqual([]);
  });

  it('cuts a line to the terminal width, so that it never wraps', () => {
    const out = stream(true, 30);
    Progress.onStderr({ large: true }, out).step('reading the live rules and checking the new ones');
    const line = out.written[0]!.replace('\r\x1b[2K', '');
    expect(line.length).toBe(29);
    expect(line.endsWith('…')).toBe(true);
  });
});

describe('compileGraph steps', () => {
  it('tells each step as it starts, in order, with what it works on', () => {
    const steps: CompileStep[] = [];
    const service = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n  - port: 80\n';
    compileGraph([{ name: 'a.yaml', text: service }], { nodeName: 'n', nodeIPs: ['192.0.2.1'], clusterCIDRs: [] }, (step) => steps.push(step));
    expect(steps).toEqual([{ step: 'load', bytes: service.length }, { step: 'validate', objects: 1 }, { step: 'resolve' }, { step: 'graph' }]);
    expect(steps.map(compileStepText)).toEqual([`reading 0.0 MB of manifests`, 'checking 1 object', 'matching endpoints to services', 'building the routing graph']);
  });
});

describe('Progress ticker', () => {
  it('keeps the seconds moving while the main thread is busy, and writes nothing after clear', async () => {
    const { mkdtempSync, openSync, readFileSync, closeSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'kpc-ticker-')), 'stderr');
    const fd = openSync(file, 'w');
    const { descriptorStream } = await import('../../src/cli/progress.js');
    const progress = new Progress(descriptorStream(fd, true), true, 20);
    progress.step('checking 100,000 objects');
    // Synchronous work, as the compiler's: no timer on this thread can fire meanwhile.
    const until = Date.now() + 600;
    while (Date.now() < until);
    progress.clear();
    const afterClear = readFileSync(file, 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 100));
    closeSync(fd);
    const written = readFileSync(file, 'utf8');
    expect(written).toBe(afterClear);
    expect(written.endsWith('\r\x1b[2K')).toBe(true);
    const seconds = new Set([...written.matchAll(/kpc: checking 100,000 objects \((\d+\.\d) s\)/g)].map((m) => m[1]));
    expect(seconds.size).toBeGreaterThan(2);
  });
});
