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

  it('only Services with ClientIP affinity pay for per-port and per-endpoint objects', () => {
    const none = counts(compact(services(10, 3)));
    const two = counts(compact(services(10, 3, 2)));
    // Per affinity port: its chain and 3 endpoint chains; 3 timeout sets.
    expect(two.chains - none.chains).toBe(2 * 4);
    expect(two.containers - none.containers).toBe(2 * 3);
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

  it('a generated cluster (10 endpoints per port): from 100 to 400 service ports, only DNAT chains for new list sizes are added, at most one per kind and size', () => {
    const shared = [100, 400].map((n) => {
      const cluster = generateCluster({ servicePorts: n });
      const options = { nodeName: cluster.node.name, nodeIPs: [cluster.node.ip], clusterCIDRs: [cluster.node.clusterCIDR] };
      const text = emit(compileGraph([{ name: 'c.yaml', text: cluster.text }], options).graph, { mode: 'nftables', family: 4, layout: 'compact' });
      // Affinity ports keep per-port objects by design; the rest is shared.
      return text.split('\n').filter((l) => /^add (chain|rule|set|map) /.test(l) && !/(service|local|endpoint|affinity)-[A-Z2-7]{8}-/.test(l));
    });
    const bySize = /-n\d+\b/;
    expect(shared[1]!.filter((l) => !bySize.test(l))).toEqual(shared[0]!.filter((l) => !bySize.test(l)));
    // 4 kinds (cluster, local, node-port cluster, node-port local) x sizes 1..10, 3 lines each (chain, map, rule).
    expect(shared[1]!.filter((l) => bySize.test(l)).length).toBeLessThanOrEqual(4 * 10 * 3);
  });
});
