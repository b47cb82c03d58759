import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph, emit } from '../../src/compile.js';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import { problems } from '../helpers/manifests.js';

/**
 * kube-proxy's TestBadIPs (pkg/proxy/iptables/proxier_test.go): a Service and
 * an EndpointSlice stored before the API server refused leading zeros. kube-proxy
 * programs them with each address read as decimal and written canonically.
 */
const FILE = join(import.meta.dirname, 'legacy-ips.yaml');
const text = readFileSync(FILE, 'utf8');

describe('legacy IPv4 addresses with leading zeros', () => {
  it('are programmed as kube-proxy programs them, canonical and decimal', () => {
    const { graph } = compileGraph([{ name: 'legacy-ips.yaml', text }], { nodeIPs: ['10.0.0.1'], clusterCIDRs: ['10.0.0.0/8'] });
    const rules = emit(graph, { mode: 'iptables', family: 4 }).split('\n');
    // The lines of kube-proxy's expected dump that hold the addresses.
    for (const line of [
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-XPGD46QRK7WJZT7O',
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-XPGD46QRK7WJZT7O',
      '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-XPGD46QRK7WJZT7O',
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
    ]) {
      expect(rules).toContain(line);
    }
    expect(rules.join('\n')).not.toMatch(/\b0\d/);
  });

  it('each get a warning with file, line and field, and the text to write instead', () => {
    const { warnings, errors } = problems({ 'legacy-ips.yaml': text });
    expect(errors).toEqual([]);
    expect(warnings.map(formatDiagnostic)).toEqual([
      'warning: legacy-ips.yaml:7: Service ns1/svc1: spec.clusterIP: "172.30.0.041" has leading zeros, which API servers now refuse; read as 172.30.0.41, as kube-proxy reads it (write 172.30.0.41)',
      'warning: legacy-ips.yaml:8: Service ns1/svc1: spec.externalIPs[0]: "192.168.099.022" has leading zeros, which API servers now refuse; read as 192.168.99.22, as kube-proxy reads it (write 192.168.99.22)',
      'warning: legacy-ips.yaml:9: Service ns1/svc1: spec.loadBalancerSourceRanges[0]: "203.0.113.000/025" has leading zeros, which API servers now refuse; read as 203.0.113.0/25, as kube-proxy reads it (write 203.0.113.0/25)',
      'warning: legacy-ips.yaml:14: Service ns1/svc1: status.loadBalancer.ingress[0].ip: "1.2.3.004" has leading zeros, which API servers now refuse; read as 1.2.3.4, as kube-proxy reads it (write 1.2.3.4)',
      'warning: legacy-ips.yaml:22: EndpointSlice ns1/svc1-1: endpoints[0].addresses[0]: "10.180.00.001" has leading zeros, which API servers now refuse; read as 10.180.0.1, as kube-proxy reads it (write 10.180.0.1)',
    ]);
  });

  it('stay errors where kube-proxy does not read them sloppily, and in IPv6 slices', () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: { name: p, namespace: ns1 }\nstatus: { podIP: 10.0.0.01 }\n';
    expect(problems({ 'p.yaml': pod }).errors.map(formatDiagnostic)).toEqual(['p.yaml:4: Pod ns1/p: status.podIP: "10.0.0.01" is not a valid IP address']);
    const v6 = text.replace('addressType: IPv4', 'addressType: IPv6');
    expect(problems({ 'v6.yaml': v6 }).errors.map((d) => d.message)).toEqual(['"10.180.00.001" is not a valid IPv6 address']);
  });
});
