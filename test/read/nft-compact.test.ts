import { describe, expect, it } from 'vitest';
import { diffModels } from '../../src/diff/diff.js';
import { readRuleSet } from '../../src/read/index.js';
import { compileFixture, fixtureCases, render } from '../helpers/fixtures.js';

/**
 * One graph, two nftables layouts: read back, they must mean the same, for
 * every fixture (policies, affinity, firewall, no-endpoint verdicts, masquerade).
 */
describe('the compact nftables layout reads as kube-proxy\'s layout', () => {
  for (const fixture of fixtureCases()) {
    it(fixture.name, async () => {
      const graph = await compileFixture(fixture);
      const kubeProxy = readRuleSet(render(graph, 'nftables', 4, 'kube-proxy'), 'nftables');
      const compact = readRuleSet(render(graph, 'nftables', 4, 'compact'), 'nftables');
      expect([...compact.frontends.keys()].sort()).toEqual([...kubeProxy.frontends.keys()].sort());
      expect(diffModels(kubeProxy, compact).changes).toEqual([]);
      // The readers see the same by meaning, and also as data (a reader that read nothing would pass the diff above only with an empty fixture).
      const strip = (m: typeof compact) => [...m.frontends.values()].map(({ service: _service, ...rest }) => ({ ...rest, endpoints: { ...rest.endpoints }, shortCircuit: rest.shortCircuit && { ...rest.shortCircuit } }));
      expect(strip(compact).sort((a, b) => a.key.localeCompare(b.key))).toEqual(strip(kubeProxy).sort((a, b) => a.key.localeCompare(b.key)));
    });
  }

  it('sees a change in the compact layout: a masquerade set element, a DNAT map element, the local endpoints of a policy Local node port', async () => {
    const fixture = fixtureCases().find((f) => f.name === 'external-traffic-local')!;
    const graph = await compileFixture(fixture);
    const text = render(graph, 'nftables', 4, 'compact');
    const base = readRuleSet(text, 'nftables');
    for (const [from, to] of [
      ['\t10.96.0.13 . tcp . 80,\n', ''],
      ['10.96.0.13 . tcp . 80 . 1 : 10.244.2.2 . 80', '10.96.0.13 . tcp . 80 . 1 : 10.244.2.9 . 80'],
      ['\ttcp . 30082 : goto nodeport-local-n1,\n', ''],
    ] as const) {
      expect(text.includes(from), from).toBe(true);
      const changed = readRuleSet(text.replace(from, to), 'nftables');
      expect(diffModels(base, changed).changes.length, from).toBeGreaterThan(0);
    }
  });
});
