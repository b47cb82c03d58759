import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffModels } from '../../src/diff/diff.js';
import { formatText } from '../../src/diff/format.js';
import { compileGraph, emit } from '../../src/compile.js';
import { mergeModels, readRuleSet } from '../../src/read/index.js';
import { compileFixture, fixtureCases, render } from '../helpers/fixtures.js';
import { plain } from '../helpers/model.js';

/** kube-proxy's nftables layouts over time: today's, and the one before kubernetes#132456 that older nodes still run. */

const fixture = (name: string) => fixtureCases().find((f) => f.name === name)!;
const BEFORE_132456 = readFileSync(join(import.meta.dirname, 'fixtures', 'nftables-before-132456.nft'), 'utf8');
const KUBE_PROXY_136 = readFileSync(join(import.meta.dirname, 'fixtures', 'nftables-kube-proxy-1.36-listed.nft'), 'utf8');
const LAB = `apiVersion: v1
kind: Service
metadata: { name: backend-api, namespace: kproxy-lab }
spec: { clusterIP: 10.100.192.23, ports: [{ name: http, port: 80, targetPort: 9898 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: backend-api-k47lx, namespace: kproxy-lab, labels: { kubernetes.io/service-name: backend-api } }
addressType: IPv4
ports: [{ name: http, port: 9898 }]
endpoints: [{ addresses: [10.244.0.8], nodeName: pi }, { addresses: [10.244.0.10], nodeName: pi }]
---
apiVersion: v1
kind: Service
metadata: { name: kubernetes, namespace: default }
spec: { clusterIP: 10.96.0.1, ports: [{ name: https, port: 443, targetPort: 6443 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: kubernetes, namespace: default, labels: { kubernetes.io/service-name: kubernetes } }
addressType: IPv4
ports: [{ name: https, port: 6443 }]
endpoints: [{ addresses: [192.168.0.231] }]
`;
const EXTERNAL = ['IPv4 tcp 198.51.100.40:80', 'IPv4 tcp 198.51.100.41:80'];

describe('nftables layouts', () => {
  it('before kubernetes#132456 the node meets the drop for an external address of a Local service with no local endpoint; today it is short-circuited', async () => {
    const today = readRuleSet(render(await compileFixture(fixture('external-traffic-local-lb')), 'nftables'));
    const before = readRuleSet(BEFORE_132456);
    for (const key of EXTERNAL) {
      expect(today.frontends.get(key)).toMatchObject({ verdict: 'drop', nodeMeetsVerdict: false, shortCircuit: { '10.244.2.5:80': 1 } });
      expect(before.frontends.get(key)).toMatchObject({ verdict: 'drop', nodeMeetsVerdict: true, shortCircuit: { '10.244.2.5:80': 1 } });
    }
    // Only those two differ: the node port (checked in the input hook only) and "near" (no verdict) do not.
    expect(diffModels(before, today).changes).toEqual(
      EXTERNAL.map((frontend) => ({ group: 'default/far', frontend, kind: 'node-traffic-changed', before: 'drop', after: 'short-circuited' })),
    );
    for (const key of EXTERNAL) before.frontends.get(key)!.nodeMeetsVerdict = false;
    expect(plain(before)).toEqual(plain(today));
  });

  it('today iptables and nftables agree on the node\'s own traffic', async () => {
    const graph = await compileFixture(fixture('external-traffic-local-lb'));
    const iptables = mergeModels([readRuleSet(render(graph, 'iptables', 4)), readRuleSet(render(graph, 'iptables', 6))]);
    expect(diffModels(iptables, readRuleSet(render(graph, 'nftables'))).changes).toEqual([]);
    expect(diffModels(iptables, readRuleSet(BEFORE_132456)).changes.map((c) => c.kind)).toEqual(['node-traffic-changed', 'node-traffic-changed']);
  });

  it('read the unallocated-ClusterIP drop, in the written and the listed form; iptables mode has none', async () => {
    const graph = await compileFixture(fixture('service-cidr'));
    const nft = readRuleSet(render(graph, 'nftables'));
    expect(nft.unallocatedDrop).toEqual(['IPv4 10.96.0.0/16', 'IPv6 fd00:10:96::/112']);
    const iptables = mergeModels([readRuleSet(render(graph, 'iptables', 4)), readRuleSet(render(graph, 'iptables', 6))]);
    expect(iptables.unallocatedDrop).toEqual([]);
    const report = diffModels(iptables, nft);
    expect(report.changes).toEqual([{ group: '(service CIDRs)', frontend: 'addresses no Service holds', kind: 'unallocated-drop-changed', before: 'none', after: 'IPv4 10.96.0.0/16, IPv6 fd00:10:96::/112' }]);
    expect(formatText(report, (_s, t) => t)).toContain('~ dropped ranges: none -> IPv4 10.96.0.0/16, IPv6 fd00:10:96::/112');
    // nft lists a one-element anonymous set as a bare value, and several with ", ".
    const listed = (set: string) => `table ip kube-proxy {\n\tchain cluster-ips-check {\n\t\tip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"\n\t\tip daddr ${set} drop comment "Drop traffic to unallocated ClusterIPs"\n\t}\n}\n`;
    expect(readRuleSet(listed('10.96.0.0/16')).unallocatedDrop).toEqual(['IPv4 10.96.0.0/16']);
    expect(readRuleSet(listed('{ 10.96.0.0/16, 10.200.0.0/16 }')).unallocatedDrop).toEqual(['IPv4 10.200.0.0/16', 'IPv4 10.96.0.0/16']);
    expect(readRuleSet(listed('{ 10.96.0.0/16 }').replace(' drop comment "Drop', ' reject comment "Drop')).unallocatedDrop).toEqual([]);
  });

  it("a node running kube-proxy 1.36 (DNAT maps in service chains, masquerade mark set in the services chain) reads back as kpc's output for the same objects", () => {
    const { graph } = compileGraph([{ name: 'lab.yaml', text: LAB }], { nodeName: 'pi', nodeIPs: ['192.168.0.231'], clusterCIDRs: ['10.244.0.0/16'] });
    const kpc = readRuleSet(emit(graph, { mode: 'nftables', family: 4 }));
    const live = readRuleSet(KUBE_PROXY_136);
    expect(live.frontends.get('IPv4 tcp 10.100.192.23:80')).toMatchObject({ masquerade: 'off-cluster 10.244.0.0/16', endpoints: { '10.244.0.10:9898': 0.5, '10.244.0.8:9898': 0.5 } });
    expect(plain(live)).toEqual(plain(kpc));
    expect(diffModels(live, kpc).changes).toEqual([]);
    // kubernetes#140723 writes one endpoint as a plain DNAT in the service chain; nft may list numgen keys as ranges.
    const single = KUBE_PROXY_136.replace('dnat ip to numgen random mod 1 map { 0 : 192.168.0.231 . 6443 }', 'dnat ip to 192.168.0.231:6443');
    expect(plain(readRuleSet(single))).toEqual(plain(kpc));
    const ranged = KUBE_PROXY_136.replace('numgen random mod 2 map { 0 : 10.244.0.10 . 9898, 1 : 10.244.0.8 . 9898 }', 'numgen random mod 4 map { 0-2 : 10.244.0.10 . 9898, 3 : 10.244.0.8 . 9898 }');
    expect(readRuleSet(ranged).frontends.get('IPv4 tcp 10.100.192.23:80')!.endpoints).toEqual({ '10.244.0.10:9898': 0.75, '10.244.0.8:9898': 0.25 });
    // Without the services-chain mark nothing is masqueraded: the difference shows.
    const unmarked = KUBE_PROXY_136.replace(/\t\tip daddr @cluster-ips ip saddr != .*\n/, '');
    expect(diffModels(readRuleSet(unmarked), kpc).changes.map((c) => c.kind)).toEqual(['masquerade-changed', 'masquerade-changed']);
  });
});
