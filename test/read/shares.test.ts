import { describe, expect, it } from 'vitest';
import { compileGraph, emit } from '../../src/compile.js';
import { diffModels } from '../../src/diff/diff.js';
import { readRuleSet } from '../../src/read/index.js';
import { yamlDocs } from '../helpers/manifests.js';

/**
 * The model's shares are exact where the rules mean 1/n: the iptables chain's
 * rounded probabilities are read as the 1/k they stand for (as explain reads
 * them), nftables' numgen elements take the indexes they cover. So kpc's own
 * rules read back to exactly 1/n in both modes, and diff can compare shares
 * without a tolerance wide enough to hide a real change.
 */

const NODE = { nodeName: 'node-a', nodeIPs: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] };

function rules(n: number, mode: 'iptables' | 'nftables'): string {
  const service = 'apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: shop }\nspec:\n  clusterIP: 10.96.0.10\n  ports: [{ name: http, port: 80, targetPort: 8080 }]\n';
  const endpoints = Array.from({ length: n }, (_, i) => `  - addresses: [10.244.${1 + Math.floor(i / 200)}.${2 + (i % 200)}]\n`).join('');
  const slice = `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: web-1, namespace: shop, labels: { kubernetes.io/service-name: web } }\naddressType: IPv4\nports: [{ name: http, port: 8080 }]\nendpoints:\n${endpoints}`;
  const { graph } = compileGraph([{ name: 'x.yaml', text: yamlDocs(service, slice) }], NODE);
  return emit(graph, { mode, family: 4 });
}

describe('shares read back', () => {
  it('are exactly 1/n in both modes for 1 to 64 endpoints', () => {
    for (let n = 1; n <= 64; n++) {
      for (const mode of ['iptables', 'nftables'] as const) {
        const frontend = readRuleSet(rules(n, mode)).frontends.get('IPv4 tcp 10.96.0.10:80')!;
        expect(Object.values(frontend.endpoints), `${mode} ${n}`).toEqual(Array(n).fill(1 / n));
      }
    }
  });

  it("are the same for the kernel's listing of iptables probabilities", () => {
    const written = rules(6, 'iptables');
    // What iptables-save prints after a kernel round trip: steps of 2^-31, eleven decimals.
    const listed = written.replace(/--probability (\S+)/g, (_, p: string) => `--probability ${(Math.round(Number(p) * 2 ** 31) / 2 ** 31).toFixed(11)}`);
    expect(listed).toContain('--probability 0.16666666651');
    expect(diffModels(readRuleSet(written), readRuleSet(listed)).changes).toEqual([]);
    expect(Object.values(readRuleSet(listed).frontends.get('IPv4 tcp 10.96.0.10:80')!.endpoints)).toEqual(Array(6).fill(1 / 6));
  });

  it('count every index a numgen element covers', () => {
    const nft = rules(2, 'nftables').replace(/numgen random mod 2 vmap \{ 0 : (goto \S+), 1 : (goto \S+) \}/, 'numgen random mod 4 vmap { 0-2 : $1, 3 : $2 }');
    expect(nft).toContain('mod 4');
    expect(Object.values(readRuleSet(nft).frontends.get('IPv4 tcp 10.96.0.10:80')!.endpoints)).toEqual([0.75, 0.25]);
  });

  it('differ when one endpoint of a thousand gets twice the traffic', () => {
    const before = rules(1000, 'nftables');
    // The same thousand endpoints, the first one on two of 1001 indexes.
    const first = /numgen random mod 1000 vmap \{ 0 : (goto \S+),/.exec(before)![1]!;
    const after = before.replace('numgen random mod 1000 vmap { 0 :', `numgen random mod 1001 vmap { 1000 : ${first}, 0 :`);
    const changes = diffModels(readRuleSet(before), readRuleSet(after)).changes.filter((c) => c.frontend === 'IPv4 tcp 10.96.0.10:80');
    expect(changes.map((c) => c.kind)).toEqual(Array(1000).fill('share-changed'));
    const doubled = changes.filter((c) => c.after!.endsWith(' 0.2%'));
    const address = first.split('__')[1]!.replace('/', ':');
    expect(doubled.map((c) => [c.before, c.after])).toEqual([[`${address} 0.1%`, `${address} 0.2%`]]);
    // The other 999 lose a little, and the text shows it: 0.1% -> 0.0999%.
    expect(changes.filter((c) => c !== doubled[0]).every((c) => c.before!.endsWith(' 0.1000%') && c.after!.endsWith(' 0.0999%'))).toBe(true);
  });
});

describe('a chain kube-proxy did not write', () => {
  it('is added up exactly as written', () => {
    const text = rules(3, 'iptables').replace(/--probability 0\.3333333333/, '--probability 0.3').replace(/--probability 0\.5000000000/, '--probability 0.5');
    expect(Object.values(readRuleSet(text).frontends.get('IPv4 tcp 10.96.0.10:80')!.endpoints)).toEqual([0.3, 0.35, 0.35]);
  });
});
