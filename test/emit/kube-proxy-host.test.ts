import { describe, expect, it } from 'vitest';
import { compileGraph, emit } from '../../src/compile.js';
import type { NodeOptions } from '../../src/graph/node-context.js';
import { diffModels } from '../../src/diff/diff.js';
import { readRuleSet } from '../../src/read/index.js';
import { kpc } from '../helpers/cli.js';

const NODE: NodeOptions = { nodeName: 'node-a', nodeIPs: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] };

/** One NodePort Service whose port has `n` endpoints. */
function service(n: number): string {
  const addresses = Array.from({ length: n }, (_, i) => `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  return `apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { type: NodePort, clusterIP: 10.96.0.10, ports: [{ name: http, port: 80, targetPort: 8080, nodePort: 30080 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: shop, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: 8080 }]
endpoints:
${addresses.map((a) => `  - addresses: [${a}]\n    conditions: { ready: true }`).join('\n')}
`;
}

function iptables(text: string, node: NodeOptions = NODE): string {
  return emit(compileGraph([{ name: 'x.yaml', text }], node).graph, { mode: 'iptables', family: 4 });
}

const endpointRules = (rules: string) => rules.split('\n').filter((l) => /^-A KUBE-SEP-|^-A KUBE-SVC-.* -j KUBE-SEP-/.test(l));

describe("kube-proxy's large-cluster mode (largeClusterEndpointsThreshold)", () => {
  it('keeps endpoint rule comments up to 1,000 endpoints and drops them above', () => {
    const at = endpointRules(iptables(service(1000)));
    const above = endpointRules(iptables(service(1001)));
    expect(at.length).toBe(3 * 1000);
    expect(at.every((l) => l.includes('-m comment'))).toBe(true);
    expect(above.length).toBe(3 * 1001);
    expect(above.filter((l) => l.includes('-m comment'))).toEqual([]);
    // As kube-proxy spells them without a comment.
    expect(above.some((l) => /^-A KUBE-SEP-\w+ -s 10\.244\.0\.1 -j KUBE-MARK-MASQ$/.test(l))).toBe(true);
    expect(above.some((l) => /^-A KUBE-SEP-\w+ -m tcp -p tcp -j DNAT --to-destination 10\.244\.0\.1:8080$/.test(l))).toBe(true);
    expect(above.some((l) => /^-A KUBE-SVC-\w+ -m statistic --mode random --probability 0\.0009990010 -j KUBE-SEP-\w+$/.test(l))).toBe(true);
  });

  it('means the same rules to diff: a large cluster reads back as its nftables rules do', () => {
    const { graph } = compileGraph([{ name: 'x.yaml', text: service(1001) }], NODE);
    const a = readRuleSet(emit(graph, { mode: 'iptables', family: 4 }), 'iptables');
    const b = readRuleSet(emit(graph, { mode: 'nftables', family: 4 }), 'nftables');
    expect(diffModels(a, b).changes).toEqual([]);
  });
});

describe('host capabilities', () => {
  it('--random-fully is written unless the host lacks it', () => {
    expect(iptables(service(2))).toContain('-j MASQUERADE --random-fully\n');
    const without = iptables(service(2), { ...NODE, randomFully: false });
    expect(without).toContain('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE\n');
    expect(without).not.toContain('random-fully');
  });

  it('nfacct counting rules only where the kernel has nfacct, as kube-proxy writes them', () => {
    expect(iptables(service(2))).not.toContain('nfacct');
    const rules = iptables(service(2), { ...NODE, nfacct: true }).split('\n');
    expect(rules).toContain('-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP');
    const nodePorts = rules.filter((l) => l.startsWith('-A KUBE-NODEPORTS'));
    expect(nodePorts).toHaveLength(2);
    expect(nodePorts[0]).toMatch(/^-A KUBE-NODEPORTS -m comment --comment shop\/web:http -m tcp -p tcp -d 127\.0\.0\.0\/8 --dport 30080 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-\w+$/);
    // Not where localhost node ports are off.
    const off = iptables(service(2), { ...NODE, nfacct: true, config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', iptables: { localhostNodePorts: false } } });
    expect(off).not.toContain('localhost_nps_accepted_pkts');
  });

  it('explain follows a localhost node-port packet through the nfacct rule', async () => {
    const rules = iptables(service(2), { ...NODE, nfacct: true });
    const run = await kpc(['explain', '--rules', '-', '--node-ip', '192.0.2.10', '--from', '127.0.0.1', '--to', '127.0.0.1:30080/tcp'], { input: rules });
    expect(run.stdout).not.toMatch(/cannot evaluate/);
    expect(run.stdout).toMatch(/-d 127\.0\.0\.0\/8 --dport 30080 -m nfacct/);
    expect(run.stdout).toMatch(/backend 10\.244\.0\.1:8080/);
  });
});
