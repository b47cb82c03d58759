import { describe, expect, it } from 'vitest';
import { compileGraph, emit } from '../../../src/compile.js';
import { generateCluster } from '../../../bench/generate-cluster.js';

const NODE = { nodeName: 'node-a', nodeIPs: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] };

/** `n` ClusterIP Services of one port, each with `endpoints` endpoints, as YAML. */
function services(n: number, endpoints: number, affinity = 0): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const sticky = i < affinity ? '\n  sessionAffinity: ClientIP' : '';
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: s${i}, namespace: ns}\nspec:\n  clusterIP: 10.96.${i >> 8}.${(i & 255) + 1}${sticky}\n  ports: [{port: 80, protocol: TCP}]`);
    const eps = Array.from({ length: endpoints }, (_, j) => `  - addresses: [10.244.${j}.${(i % 250) + 2}]\n    nodeName: node-${j % 3}`).join('\n');
    docs.push(`apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s${i}-a, namespace: ns, labels: {kubernetes.io/service-name: s${i}}}\naddressType: IPv4\nports: [{port: 8080, protocol: TCP}]\nendpoints:\n${eps}`);
  }
  return docs.join('\n---\n');
}

function compact(yaml: string, options: object = {}): string {
  const { graph } = compileGraph([{ name: 'x.yaml', text: yaml }], { ...NODE, ...options });
  return emit(graph, { mode: 'nftables', family: 4, layout: 'compact' });
}

function counts(text: string): { chains: number; containers: number; rules: number } {
  const lines = text.split('\n');
  return {
    chains: lines.filter((l) => l.startsWith('add chain ')).length,
    containers: lines.filter((l) => /^add (set|map) /.test(l)).length,
    rules: lines.filter((l) => l.startsWith('add rule ')).length,
  };
}

describe('nftables compact layout', () => {
  it('has as many rules, chains and sets for 200 Services as for 5: only elements grow', () => {
    const few = compact(services(5, 3));
    const many = compact(services(200, 3));
    expect(counts(many)).toEqual(counts(few));
    expect(many.length).toBeGreaterThan(few.length * 5);
  });

  it('adds one DNAT chain and map per distinct endpoint count, not per Service', () => {
    const text = compact(services(20, 3) + '\n---\n' + services(1, 4).replaceAll('s0', 'other').replace('10.96.0.1', '10.96.9.9'));
    expect(text).toMatch(/^add chain ip kube-proxy cluster-n3$/m);
    expect(text).toMatch(/^add chain ip kube-proxy cluster-n4$/m);
    expect(text.match(/^add chain ip kube-proxy cluster-n\d+$/gm)).toHaveLength(2);
  });

  it('ClientIP affinity adds one set per kind, protocol and timeout and chains per endpoint count, not objects per Service', () => {
    const none = counts(compact(services(10, 3)));
    const two = counts(compact(services(10, 3, 2)));
    const fifty = counts(compact(services(200, 3, 50)));
    expect(fifty).toEqual(two);
    // One timeout set; for 3 endpoints a check chain and 3 index chains: 3 lookups and a numgen vmap, an update and a dnat per index.
    expect(two.containers - none.containers).toBe(1);
    expect(two.chains - none.chains).toBe(1 + 3);
    expect(two.rules - none.rules).toBe(3 + 1 + 3 * 2);
  });

  it('a ClientIP affinity port DNATs through the shared map, each index chain picking its own element', () => {
    const text = compact(services(1, 2, 1));
    const lines = text.split('\n').filter((l) => /^add (chain|rule|set) ip kube-proxy (affinity-|cluster-n2)/.test(l));
    expect(lines).toEqual([
      'add chain ip kube-proxy cluster-n2-affinity-tcp-10800',
      'add chain ip kube-proxy cluster-n2-affinity-tcp-10800-0',
      'add chain ip kube-proxy cluster-n2-affinity-tcp-10800-1',
      'add set ip kube-proxy affinity-cluster-tcp-10800 { typeof ip saddr . ip daddr . th dport . numgen random mod 1 ; flags dynamic,timeout ; timeout 10800s ; size 1048576 ; }',
      'add rule ip kube-proxy cluster-n2-affinity-tcp-10800 ip saddr . ip daddr . th dport . numgen random mod 1 offset 0 @affinity-cluster-tcp-10800 goto cluster-n2-affinity-tcp-10800-0',
      'add rule ip kube-proxy cluster-n2-affinity-tcp-10800 ip saddr . ip daddr . th dport . numgen random mod 1 offset 1 @affinity-cluster-tcp-10800 goto cluster-n2-affinity-tcp-10800-1',
      'add rule ip kube-proxy cluster-n2-affinity-tcp-10800 numgen random mod 2 vmap { 0 : goto cluster-n2-affinity-tcp-10800-0, 1 : goto cluster-n2-affinity-tcp-10800-1 }',
      'add rule ip kube-proxy cluster-n2-affinity-tcp-10800-0 update @affinity-cluster-tcp-10800 { ip saddr . ip daddr . th dport . numgen random mod 1 offset 0 }',
      'add rule ip kube-proxy cluster-n2-affinity-tcp-10800-0 dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 1 offset 0 map @cluster-endpoints-n2',
      'add rule ip kube-proxy cluster-n2-affinity-tcp-10800-1 update @affinity-cluster-tcp-10800 { ip saddr . ip daddr . th dport . numgen random mod 1 offset 1 }',
      'add rule ip kube-proxy cluster-n2-affinity-tcp-10800-1 dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 1 offset 1 map @cluster-endpoints-n2',
    ]);
    // Only affinity ports have 2 endpoints here: the map is there, the plain chain is not.
    expect(text).toMatch(/^add map ip kube-proxy cluster-endpoints-n2 /m);
    expect(text).not.toMatch(/^add chain ip kube-proxy cluster-n2$/m);
    expect(text).toMatch(/^\t10\.96\.0\.1 \. tcp \. 80 comment "ns\/s0" : goto cluster-n2-affinity-tcp-10800,$/m);
  });

  it('a port without affinity is written as before next to one with it', () => {
    const plain = compact(services(3, 2)).split('\n');
    const mixed = new Set(compact(services(3, 2, 1)).split('\n'));
    // Every line of the plain ports' output is still there, except the first port's verdict-map element.
    expect(plain.filter((l) => !mixed.has(l))).toEqual(['\t10.96.0.1 . tcp . 80 comment "ns/s0" : goto cluster-n2,']);
  });

  it('drops unallocated addresses of the service CIDRs after rejecting unused ports of cluster IPs', () => {
    const text = compact(services(2, 1), { serviceCIDRs: ['10.96.0.0/16'] });
    const check = text.split('\n').filter((l) => l.startsWith('add rule ip kube-proxy cluster-ips-check '));
    expect(check).toEqual([
      'add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
      'add rule ip kube-proxy cluster-ips-check ip daddr { 10.96.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"',
    ]);
    expect(compact(services(2, 1))).not.toMatch(/unallocated/);
  });

  it('a generated cluster (10 endpoints per port): from 100 to 400 service ports, only DNAT chains for new list sizes and affinity sets for new kinds and timeouts are added', () => {
    const shared = [100, 400].map((n) => {
      const cluster = generateCluster({ servicePorts: n });
      const options = { nodeName: cluster.node.name, nodeIPs: [cluster.node.ip], clusterCIDRs: [cluster.node.clusterCIDR] };
      const text = emit(compileGraph([{ name: 'c.yaml', text: cluster.text }], options).graph, { mode: 'nftables', family: 4, layout: 'compact' });
      return text.split('\n').filter((l) => /^add (chain|rule|set|map) /.test(l));
    });
    const bySize = /-n\d+\b/;
    const affinitySet = /^add set ip kube-proxy affinity-/;
    const fixed = (lines: string[]) => lines.filter((l) => !bySize.test(l) && !affinitySet.test(l));
    expect(fixed(shared[1]!)).toEqual(fixed(shared[0]!));
    // 4 kinds x 3 protocols x the generator's 2 timeouts.
    expect(shared[1]!.filter((l) => affinitySet.test(l)).length).toBeLessThanOrEqual(4 * 3 * 2);
    // Plain: 4 kinds x sizes 1..10, 3 lines each (chain, map, rule). Affinity, per kind, protocol, timeout and size N: 1 + N chains, 1 + 3N rules.
    const affinity = shared[1]!.filter((l) => bySize.test(l) && /-affinity-/.test(l));
    expect(shared[1]!.filter((l) => bySize.test(l)).length - affinity.length).toBeLessThanOrEqual(4 * 10 * 3);
    expect(affinity.length).toBeLessThanOrEqual(4 * 3 * 2 * Array.from({ length: 10 }, (_, i) => 2 + 4 * (i + 1)).reduce((a, b) => a + b));
    expect(shared[1]!.some((l) => /[A-Z2-7]{8}-/.test(l))).toBe(false);
  });
});
