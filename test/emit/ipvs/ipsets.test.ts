import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../../src/compile.js';
import { emitIpvsParts } from '../../../src/emit/ipvs/index.js';
import { compileFixture, fixtureCases } from '../../helpers/fixtures.js';

/** The `add SET ENTRY` lines of sets whose last member is a net (hash:ip,port,net), with that net. */
function netEntries(ipsetPart: string): { line: string; prefix: number }[] {
  const netSets = new Set([...ipsetPart.matchAll(/^create (\S+) hash:[a-z,]*net\b/gm)].map((m) => m[1]!));
  return ipsetPart
    .split('\n')
    .filter((line) => netSets.has(line.split(' ')[1] ?? ''))
    .filter((line) => line.startsWith('add '))
    .map((line) => ({ line, prefix: Number(/\/(\d+)$/.exec(line)?.[1] ?? -1) }));
}

function ipsetPart(text: string, node = { nodeName: 'node-a', nodeIPs: ['192.0.2.10', '2001:db8::10'], clusterCIDRs: ['10.244.0.0/16'] }): string {
  const { graph } = compileGraph([{ name: 'x.yaml', text }], node);
  return emitIpvsParts(graph).find((p) => p.name === 'ipset')!.text;
}

function loadBalancer(ranges: string[], families: ('IPv4' | 'IPv6')[] = ['IPv4']): string {
  const clusterIPs = families.map((f) => (f === 'IPv4' ? '10.96.0.40' : 'fd00:10:96::40'));
  const ingress = families.map((f) => `{ ip: "${f === 'IPv4' ? '198.51.100.40' : '2001:db8:51::40'}" }`);
  const slices = families.map(
    (f) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: lb-${f.toLowerCase()}, namespace: default, labels: { kubernetes.io/service-name: lb } }
addressType: ${f}
ports: [{ port: 8080 }]
endpoints: [{ addresses: ["${f === 'IPv4' ? '10.244.1.2' : 'fd00:10:244:1::2'}"], nodeName: node-a }]
`,
  );
  return `apiVersion: v1
kind: Service
metadata: { name: lb, namespace: default }
spec:
  type: LoadBalancer
  ipFamilyPolicy: ${families.length > 1 ? 'RequireDualStack' : 'SingleStack'}
  ipFamilies: [${families.join(', ')}]
  clusterIP: ${clusterIPs[0]}
  clusterIPs: [${clusterIPs.map((ip) => `"${ip}"`).join(', ')}]
  loadBalancerSourceRanges: [${ranges.map((r) => `"${r}"`).join(', ')}]
  ports: [{ port: 80, nodePort: 30040 }]
status:
  loadBalancer:
    ingress: [${ingress.join(', ')}]
${slices.join('')}`;
}

describe('IPVS ipsets', () => {
  // ipset's hash:*net types refuse a prefix length of 0 ("The value of the CIDR
  // parameter of the IP address is invalid"), and ipset restore stops there.
  it('every fixture: no net entry has prefix length 0', async () => {
    let seen = 0;
    for (const fixture of fixtureCases()) {
      const part = emitIpvsParts(await compileFixture(fixture)).find((p) => p.name === 'ipset')!.text;
      for (const entry of netEntries(part)) {
        seen++;
        expect(entry.prefix, `${fixture.name}: ${entry.line}`).toBeGreaterThan(0);
      }
    }
    expect(seen, 'no fixture has a source-range entry: the check above checked nothing').toBeGreaterThan(0);
  });

  const anySource: { name: string; ranges: string[]; families?: ('IPv4' | 'IPv6')[]; firewalled: string[] }[] = [
    { name: '0.0.0.0/0', ranges: ['0.0.0.0/0'], firewalled: [] },
    { name: '0.0.0.0/0 beside a narrower range', ranges: ['203.0.113.0/24', '0.0.0.0/0'], firewalled: [] },
    { name: 'a /0 written with host bits', ranges: ['10.0.0.0/0'], firewalled: [] },
    { name: '::/0', ranges: ['::/0'], families: ['IPv6'], firewalled: [] },
    { name: '::/0 on a dual-stack Service: IPv4 keeps its range', ranges: ['::/0', '203.0.113.0/24'], families: ['IPv4', 'IPv6'], firewalled: ['198.51.100.40,tcp:80,203.0.113.0/24'] },
    { name: '0.0.0.0/0 on a dual-stack Service: IPv6 keeps its range', ranges: ['0.0.0.0/0', '2001:db8:cafe::/48'], families: ['IPv4', 'IPv6'], firewalled: ['2001:db8:51::40,tcp:80,2001:db8:cafe::/48'] },
  ];
  for (const c of anySource) {
    it(`a source range of prefix length 0 lets every source in, as no ranges do (kube-proxy): ${c.name}`, () => {
      const part = ipsetPart(loadBalancer(c.ranges, c.families));
      expect(netEntries(part).map((e) => e.line.split(' ')[2])).toEqual(c.firewalled);
      // No firewall for the open family: its load-balancer IP is not in the FW set.
      const fw = part.split('\n').filter((l) => /^add KUBE-(6-)?LOAD-BALANCER-FW /.test(l));
      expect(fw).toHaveLength(c.firewalled.length);
    });
  }
});
