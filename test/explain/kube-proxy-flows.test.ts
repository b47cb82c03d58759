import { describe, expect, it } from 'vitest';
import { compileGraph, emit } from '../../src/compile.js';
import { explainPacket, type Explanation } from '../../src/explain/index.js';
import type { KubeProxyConfiguration } from '../../src/model/k8s.js';

/**
 * kube-proxy's nftables packet-flow tests (runPacketFlowTests in
 * pkg/proxy/nftables/proxier_test.go, kubernetes 81810de635aa), run on kpc's
 * nftables output with kpc explain as the tracer. Each case's objects are
 * the Go test's, written as manifests; each flow is the Go test's
 * {sourceIP, destIP, destPort, protocol, output, masq}, where output is the
 * endpoints reached ("a:80, b:80"), "REJECT", "DROP", or "" (no rule applies).
 *
 * Translation notes, for every case: NewFakeProxier's node is test-node with
 * 192.168.0.2 (and, as local addresses for `fib`, 192.168.1.2, 192.168.99.11,
 * 2001:db8::1, 2001:db8:1::2), pod CIDR 10.0.0.0/8, service CIDR
 * 172.30.0.0/16, nodePortAddresses 192.168.0.2/32 and 2001:db8::1/128.
 * makeTestService leaves type empty (ClusterIP to kube-proxy); slices are
 * named <svc>-1; an endpoint with no nodeName is on another node.
 */

const NODE_IPS = ['192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2'];
const CONFIG = { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', nodePortAddresses: ['192.168.0.2/32', '2001:db8::1/128'] } as KubeProxyConfiguration;

interface Flow {
  name: string;
  sourceIP: string;
  destIP: string;
  destPort: number;
  protocol?: 'tcp' | 'udp' | 'sctp';
  output: string;
  masq?: boolean;
}

function rules(manifests: string): string {
  const { graph } = compileGraph([{ name: 'input.yaml', text: manifests }], {
    nodeName: 'test-node',
    nodeIPs: ['192.168.0.2'],
    clusterCIDRs: ['10.0.0.0/8'],
    serviceCIDRs: ['172.30.0.0/16'],
    config: CONFIG,
  });
  return emit(graph, { mode: 'nftables', family: 4 });
}

/** An explanation in runPacketFlowTests' terms. */
function asKubeProxy(e: Explanation): { output: string; masq: boolean } {
  const kinds = new Set(e.outcomes.map((o) => o.kind));
  if (kinds.size === 1 && kinds.has('reject')) return { output: 'REJECT', masq: false };
  if (kinds.size === 1 && kinds.has('drop')) return { output: 'DROP', masq: false };
  if (kinds.size === 1 && kinds.has('untouched')) return { output: '', masq: false };
  const backends = e.outcomes.filter((o) => o.kind === 'backend');
  if (backends.length !== e.outcomes.length) return { output: `mixed: ${JSON.stringify(e.outcomes)}`, masq: false };
  const masq = new Set(backends.map((o) => o.masquerade));
  return { output: [...new Set(backends.map((o) => o.endpoint))].sort().join(', '), masq: masq.size === 1 ? [...masq][0]! : (null as never) };
}

function runFlows(text: string, flows: Flow[]): void {
  for (const flow of flows) {
    const e = explainPacket(text, 'nftables', { family: 4, src: flow.sourceIP, dst: flow.destIP, dport: flow.destPort, protocol: flow.protocol ?? 'tcp' }, { ips: NODE_IPS, clusterCIDRs: ['10.0.0.0/8'] });
    expect(e.warnings, flow.name).toEqual([]);
    const got = asKubeProxy(e);
    const sorted = flow.output.split(', ').sort().join(', ');
    expect({ name: flow.name, ...got }, flow.name).toEqual({ name: flow.name, output: sorted, masq: flow.masq ?? false });
  }
}

const slice = (ns: string, svc: string, endpoints: string, ports: string) =>
  `---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: ${svc}-1, namespace: ${ns}, labels: { kubernetes.io/service-name: ${svc} } }\naddressType: IPv4\nendpoints: ${endpoints}\nports: ${ports}\n`;

describe("kube-proxy's nftables packet-flow tests, traced through kpc's output", () => {
  it('TestClusterIPGeneral', () => {
    const text = rules(
      `apiVersion: v1\nkind: Service\nmetadata: { name: svc1, namespace: ns1 }\nspec: { type: ClusterIP, clusterIP: 172.30.0.41, ports: [{ name: http, port: 80, protocol: TCP }] }\n` +
        `---\napiVersion: v1\nkind: Service\nmetadata: { name: svc2, namespace: ns2 }\nspec:\n  type: ClusterIP\n  clusterIP: 172.30.0.42\n  ports:\n` +
        `  - { name: http, port: 80, protocol: TCP }\n  - { name: https, port: 443, protocol: TCP, targetPort: 8443 }\n  - { name: dns-udp, port: 53, protocol: UDP }\n` +
        `  - { name: dns-tcp, port: 53, protocol: TCP, targetPort: 5353 }\n  - { name: dns-sctp, port: 53, protocol: SCTP }\n` +
        slice('ns1', 'svc1', '[{ addresses: [10.180.0.1], nodeName: test-node }]', '[{ name: http, port: 80, protocol: TCP }]') +
        slice(
          'ns2',
          'svc2',
          '[{ addresses: [10.180.0.1], nodeName: test-node }, { addresses: [10.180.2.1], nodeName: node2 }]',
          '[{ name: http, port: 80, protocol: TCP }, { name: https, port: 8443, protocol: TCP }, { name: dns-udp, port: 53, protocol: UDP }, { name: dns-tcp, port: 5353, protocol: TCP }, { name: dns-sctp, port: 53, protocol: SCTP }]',
        ),
    );
    runFlows(text, [
      { name: 'simple clusterIP', sourceIP: '10.180.0.2', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80', masq: false },
      { name: 'hairpin to cluster IP', sourceIP: '10.180.0.1', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80', masq: true },
      { name: 'clusterIP with multiple endpoints', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 80, output: '10.180.0.1:80, 10.180.2.1:80', masq: false },
      { name: 'clusterIP with TargetPort', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 443, output: '10.180.0.1:8443, 10.180.2.1:8443', masq: false },
      { name: 'clusterIP with TCP, UDP, and SCTP on same port (TCP)', sourceIP: '10.180.0.2', protocol: 'tcp', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:5353, 10.180.2.1:5353', masq: false },
      { name: 'clusterIP with TCP, UDP, and SCTP on same port (UDP)', sourceIP: '10.180.0.2', protocol: 'udp', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:53, 10.180.2.1:53', masq: false },
      { name: 'clusterIP with TCP, UDP, and SCTP on same port (SCTP)', sourceIP: '10.180.0.2', protocol: 'sctp', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:53, 10.180.2.1:53', masq: false },
      { name: 'TCP-only port does not match UDP traffic', sourceIP: '10.180.0.2', protocol: 'udp', destIP: '172.30.0.42', destPort: 80, output: 'REJECT' },
      { name: "svc1 does not accept svc2's ports", sourceIP: '10.180.0.2', destIP: '172.30.0.41', destPort: 443, output: 'REJECT' },
      { name: 'packet to unallocated cluster ip', sourceIP: '10.180.0.2', destIP: '172.30.0.50', destPort: 80, output: 'DROP' },
    ]);
  });

  it('TestNoEndpointsReject', () => {
    // Translation: the Go test gives the service no EndpointSlice at all.
    const text = rules(
      `apiVersion: v1\nkind: Service\nmetadata: { name: svc1, namespace: ns1 }\nspec:\n  type: LoadBalancer\n  clusterIP: 172.30.0.41\n  externalIPs: [192.168.99.11]\n` +
        `  ports: [{ name: p80, protocol: TCP, port: 80, nodePort: 3001 }]\nstatus: { loadBalancer: { ingress: [{ ip: 1.2.3.4 }] } }\n`,
    );
    runFlows(text, [
      { name: 'pod to cluster IP with no endpoints', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: 'REJECT' },
      { name: 'external to external IP with no endpoints', sourceIP: '203.0.113.2', destIP: '192.168.99.11', destPort: 80, output: 'REJECT' },
      { name: 'pod to NodePort with no endpoints', sourceIP: '10.0.0.2', destIP: '192.168.0.2', destPort: 3001, output: 'REJECT' },
      { name: 'external to NodePort with no endpoints', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: 3001, output: 'REJECT' },
      { name: 'pod to LoadBalancer IP with no endpoints', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
      { name: 'external to LoadBalancer IP with no endpoints', sourceIP: '203.0.113.2', destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
    ]);
  });

  it('TestLoadBalancer', () => {
    // Translation: the source range " 203.0.113.0/25" keeps the Go test's leading space (both trim it).
    const text = rules(
      `apiVersion: v1\nkind: Service\nmetadata: { name: svc1, namespace: ns1 }\nspec:\n  type: LoadBalancer\n  clusterIP: 172.30.0.41\n` +
        `  ports: [{ name: p80, port: 80, protocol: TCP, nodePort: 3001 }]\n  loadBalancerSourceRanges: [192.168.0.0/24, " 203.0.113.0/25"]\n` +
        `status: { loadBalancer: { ingress: [{ ip: 1.2.3.4 }, { ip: 5.6.7.8 }] } }\n` +
        slice('ns1', 'svc1', '[{ addresses: [10.180.0.1] }]', '[{ name: p80, port: 80, protocol: TCP }]'),
    );
    const ep = '10.180.0.1:80';
    runFlows(text, [
      { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: ep, masq: false },
      { name: 'external to nodePort', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: 3001, output: ep, masq: true },
      { name: 'nodePort bypasses LoadBalancerSourceRanges', sourceIP: '203.0.113.130', destIP: '192.168.0.2', destPort: 3001, output: ep, masq: true },
      { name: 'accepted external to LB1', sourceIP: '203.0.113.2', destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
      { name: 'accepted external to LB2', sourceIP: '203.0.113.2', destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
      { name: 'blocked external to LB1', sourceIP: '203.0.113.130', destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
      { name: 'blocked external to LB2', sourceIP: '203.0.113.130', destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
      { name: 'pod to LB1 (blocked by LoadBalancerSourceRanges)', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
      { name: 'pod to LB2 (blocked by LoadBalancerSourceRanges)', sourceIP: '10.0.0.2', destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
      { name: 'node to LB1 (allowed by LoadBalancerSourceRanges)', sourceIP: '192.168.0.2', destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
      { name: 'node to LB2 (allowed by LoadBalancerSourceRanges)', sourceIP: '192.168.0.2', destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
      { name: 'same node to LB1, SNATted to LB1 (implicitly allowed)', sourceIP: '1.2.3.4', destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
      { name: 'same node to LB2, SNATted to LB2 (implicitly allowed)', sourceIP: '5.6.7.8', destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
    ]);
  });

  for (const policy of ['Local', 'Cluster'] as const) {
    it(`TestExternalTrafficPolicy${policy}`, () => {
      // Translation: the Go test's healthCheckNodePort (Local only) feeds no rule and is left out.
      const text = rules(
        `apiVersion: v1\nkind: Service\nmetadata: { name: svc1, namespace: ns1 }\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: ${policy}\n  clusterIP: 172.30.0.41\n` +
          `  externalIPs: [192.168.99.11]\n  ports: [{ name: p80, port: 80, protocol: TCP, nodePort: 3001, targetPort: 80 }]\nstatus: { loadBalancer: { ingress: [{ ip: 1.2.3.4 }] } }\n` +
          slice('ns1', 'svc1', '[{ addresses: [10.180.0.1] }, { addresses: [10.180.2.1], nodeName: test-node }]', '[{ name: p80, port: 80, protocol: TCP }]'),
      );
      const both = '10.180.0.1:80, 10.180.2.1:80';
      const local = policy === 'Local';
      // Local: outside traffic only to the local endpoint, nothing masqueraded; Cluster: everything external masqueraded.
      runFlows(text, [
        { name: 'pod to cluster IP hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: both, masq: false },
        { name: 'pod to external IP hits both endpoints', sourceIP: '10.0.0.2', destIP: '192.168.99.11', destPort: 80, output: both, masq: !local },
        { name: 'external to external IP', sourceIP: '203.0.113.2', destIP: '192.168.99.11', destPort: 80, output: local ? '10.180.2.1:80' : both, masq: !local },
        { name: 'pod to LB IP hits both endpoints', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: both, masq: !local },
        { name: 'external to LB IP', sourceIP: '203.0.113.2', destIP: '1.2.3.4', destPort: 80, output: local ? '10.180.2.1:80' : both, masq: !local },
        { name: 'pod to NodePort hits both endpoints', sourceIP: '10.0.0.2', destIP: '192.168.0.2', destPort: 3001, output: both, masq: !local },
        { name: 'external to NodePort', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: 3001, output: local ? '10.180.2.1:80' : both, masq: !local },
      ]);
    });
  }
});
