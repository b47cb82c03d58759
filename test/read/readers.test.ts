import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile.js';
import type { NodeOptions } from '../../src/graph/node-context.js';
import type { IPFamily, RoutingGraph } from '../../src/graph/types.js';
import { emitIpvs, emitIpvsParts } from '../../src/emit/ipvs/index.js';
import { joinIpvsParts } from '../../src/read/ipvs.js';
import { detectFormat, mergeModels, readRuleSet, type Frontend, type RuleSetModel } from '../../src/read/index.js';
import { compileFixture, fixtureCases, render } from '../helpers/fixtures.js';
import { plain } from '../helpers/model.js';
import { fitComment } from '../../src/emit/nftables/table.js';

function both(graph: Awaited<ReturnType<typeof compileFixture>>): { iptables: RuleSetModel; nftables: RuleSetModel } {
  return {
    iptables: mergeModels([readRuleSet(render(graph, 'iptables', 4)), readRuleSet(render(graph, 'iptables', 6))]),
    nftables: readRuleSet(render(graph, 'nftables')),
  };
}

/** What a difference may look at besides the frontend: the other frontends, and how this node masquerades cluster-IP traffic. */
interface Context {
  model: RuleSetModel;
  /** 'all' (masqueradeAll), `off-cluster CIDR`, or 'none' without a cluster CIDR. */
  clusterMasquerade: string;
}

/**
 * What the IPVS reader must read where IPVS mode really differs from
 * iptables and nftables mode, derived from their model. Each rule is a
 * documented difference (README, kpc diff); nothing else may differ.
 */
export const IPVS_DIFFERENCES: { why: string; apply: (f: Frontend, context: Context) => void }[] = [
  {
    why: 'externalTrafficPolicy Local: IPVS has no short circuit for pods and the node (they get the local endpoints too), and with no local endpoint it falls back to all endpoints instead of dropping (kubernetes#97081)',
    apply: (f) => {
      if (f.shortCircuit === null) return;
      if (f.verdict === 'drop') {
        f.endpoints = f.shortCircuit;
        f.verdict = null;
      }
      f.shortCircuit = null;
    },
  },
  {
    why: 'internalTrafficPolicy Local with no local endpoint: the cluster IP falls back to every endpoint where the Service has a cluster-wide list (its node port or external addresses with externalTrafficPolicy Cluster, kubernetes#97081); else the virtual server has no real servers and IPVS refuses (reject) where the other modes drop',
    apply: (f, { model, clusterMasquerade }) => {
      if (f.kind !== 'cluster-ip' || f.verdict !== 'drop') return;
      const clusterWide = [...model.frontends.values()].find((o) => o.service === f.service && o.kind !== 'cluster-ip' && o.verdict === null && o.shortCircuit === null);
      if (!clusterWide) {
        f.verdict = 'reject';
        return;
      }
      f.endpoints = clusterWide.endpoints;
      f.verdict = null;
      f.masquerade = clusterMasquerade;
    },
  },
  { why: 'IPVS rules name no Services (no comments in ipvsadm or ipsets)', apply: (f) => (f.service = null) },
];

function asIpvsReadsIt(model: RuleSetModel, graph: RoutingGraph): RuleSetModel {
  const copy: RuleSetModel = { ...model, format: 'ipvs', frontends: new Map() };
  for (const [key, frontend] of model.frontends) {
    const f = { ...frontend };
    for (const difference of IPVS_DIFFERENCES) difference.apply(f, { model, clusterMasquerade: masqueradeOf(graph, key.startsWith('IPv6 ') ? 6 : 4) });
    copy.frontends.set(key, f);
  }
  return copy;
}

/**
 * nftables names a frontend's service port in an element comment, which nft
 * caps at 128 characters: a longer name (unusual-names) reads as its
 * Service. iptables comments hold it whole.
 */
function nftCommentNames(model: RuleSetModel): RuleSetModel {
  const frontends = new Map([...model.frontends].map(([key, f]) => [key, { ...f, service: f.service === null ? null : fitComment(f.service) }]));
  return { ...model, frontends };
}

function masqueradeOf(graph: RoutingGraph, family: IPFamily): string {
  const cidr = graph.node.clusterCIDR[family];
  return graph.node.masqueradeAll ? 'all' : cidr ? `off-cluster ${cidr}` : 'none';
}

describe('readers', () => {
  it('tell the formats apart', () => {
    expect(detectFormat('*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n')).toBe('iptables');
    expect(detectFormat('add table ip kube-proxy\n')).toBe('nftables');
    expect(detectFormat('table ip kube-proxy {\n}\n')).toBe('nftables');
    expect(detectFormat('-A -t 10.96.0.1:443 -s rr\n')).toBe('ipvs');
    expect(detectFormat('apiVersion: v1\nkind: Service\n')).toBeNull();
  });

  for (const fixture of fixtureCases()) {
    it(`${fixture.name}: the iptables and nftables outputs mean the same`, async () => {
      const graph = await compileFixture(fixture);
      const { iptables, nftables } = both(graph);
      expect(plain(nftCommentNames(iptables))).toEqual(plain(nftCommentNames(nftables)));
      // Not vacuous: every service port with a cluster IP shows up as a frontend.
      const expected = graph.servicePorts.length;
      const clusterFrontends = [...nftables.frontends.values()].filter((f) => f.kind === 'cluster-ip').length;
      expect(clusterFrontends).toBe(expected);
      expect(iptables.foreign).toEqual([]);
    });
  }

  for (const fixture of fixtureCases()) {
    it(`${fixture.name}: the IPVS output (ipvsadm, ipsets and iptables parts) means what the iptables output means, but for IPVS's documented differences`, async () => {
      const graph = await compileFixture(fixture);
      const { iptables } = both(graph);
      const ipvs = readRuleSet(render(graph, 'ipvs'));
      expect(plain(ipvs)).toEqual(plain(asIpvsReadsIt(iptables, graph)));
      expect(plain(ipvs)).toEqual(plain(asIpvsReadsIt(both(graph).nftables, graph)));
      expect([...ipvs.frontends.values()].filter((f) => f.kind === 'cluster-ip')).toHaveLength(graph.servicePorts.length);
    });
  }

  // Cases no fixture holds, where IPVS's set-driven rules decide differently per address class.
  const lbLocal = (name: string, extra: string, endpoints: string) => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.${name.length + 50}
  externalTrafficPolicy: Local
  externalIPs: [203.0.113.${name.length}]
  ports: [{ port: 80, nodePort: ${30000 + name.length} }]
${extra}
status: { loadBalancer: { ingress: [{ ip: 198.51.100.${name.length} }] } }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ port: 8080 }]
endpoints: ${endpoints}
`;
  const inline: { name: string; text: string; options?: Partial<NodeOptions> }[] = [
    { name: 'load-balancer and external IP with policy Local, a local endpoint', text: lbLocal('here', '', '[{ addresses: [10.244.1.2], nodeName: node-a }, { addresses: [10.244.2.2], nodeName: node-b }]') },
    { name: 'load-balancer and external IP with policy Local, no local endpoint', text: lbLocal('elsewhere', '', '[{ addresses: [10.244.2.2], nodeName: node-b }]') },
    { name: 'policy Local with source ranges that hold the node', text: lbLocal('ranged', '  loadBalancerSourceRanges: [192.0.2.0/24, 203.0.113.7/32]', '[{ addresses: [10.244.1.2], nodeName: node-a }]') },
    {
      name: 'internalTrafficPolicy Local on a load-balancer service, no local endpoint',
      text: lbLocal('inside', '', '[{ addresses: [10.244.2.2], nodeName: node-b }]').replace('externalTrafficPolicy: Local', 'internalTrafficPolicy: Local'),
    },
    { name: 'masqueradeAll', text: lbLocal('all', '', '[{ addresses: [10.244.1.2], nodeName: node-a }]').replace('  externalTrafficPolicy: Local\n', ''), options: { masqueradeAll: true } },
  ];
  for (const c of inline) {
    it(`${c.name}: the IPVS output means what the iptables and nftables outputs mean, but for IPVS's documented differences`, () => {
      const { graph } = compileGraph([{ name: 'x.yaml', text: c.text }], { nodeName: 'node-a', nodeIPs: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'], ...c.options });
      const { iptables, nftables } = both(graph);
      const ipvs = readRuleSet(render(graph, 'ipvs'));
      expect(plain(ipvs)).toEqual(plain(asIpvsReadsIt(iptables, graph)));
      expect(plain(ipvs)).toEqual(plain(asIpvsReadsIt(nftables, graph)));
      // Not vacuous: cluster IP, external IP, load-balancer IP and node port.
      expect(new Set([...ipvs.frontends.values()].map((f) => f.kind))).toEqual(new Set(['cluster-ip', 'external', 'node-port']));
    });
  }

  it('read kube-proxy probabilities as shares, whatever their decimal form', () => {
    const rules = (p1: string, p2: string) =>
      [
        '*nat',
        '-A KUBE-SERVICES -m comment --comment "ns/s:p cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 -j KUBE-SVC-A',
        `-A KUBE-SVC-A -m statistic --mode random --probability ${p1} -j KUBE-SEP-1`,
        `-A KUBE-SVC-A -m statistic --mode random --probability ${p2} -j KUBE-SEP-2`,
        '-A KUBE-SVC-A -j KUBE-SEP-3',
        '-A KUBE-SEP-1 -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:80',
        '-A KUBE-SEP-2 -p tcp -m tcp -j DNAT --to-destination 10.0.0.2:80',
        '-A KUBE-SEP-3 -p tcp -m tcp -j DNAT --to-destination 10.0.0.3:80',
        'COMMIT',
      ].join('\n');
    const written = readRuleSet(rules('0.3333333333', '0.5000000000'));
    const roundTripped = readRuleSet(rules('0.33332999982', '0.50000000000'));
    expect(plain(written)).toEqual(plain(roundTripped));
    const shares = Object.values([...written.frontends.values()][0]!.endpoints);
    for (const share of shares) expect(share).toBeCloseTo(1 / 3, 6);
  });

  it('list foreign rules instead of misreading them', () => {
    const model = readRuleSet('*filter\n:INPUT ACCEPT [0:0]\n:MY-FW - [0:0]\n-A INPUT -j MY-FW\n-A MY-FW -p tcp --dport 22 -j ACCEPT\nCOMMIT\n');
    expect(model.frontends.size).toBe(0);
    expect(model.foreign).toHaveLength(2);
    const nft = readRuleSet('table inet user-fw {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n');
    expect(nft.foreign).toEqual(['table inet user-fw']);
  });

  it('read a live IPVS host as its tools print it (ipvsadm -Sn, ipset save, iptables-save), listing what is not kube-proxy\'s', async () => {
    const graph = await compileFixture(fixtureCases().find((f) => f.name === 'loadbalancer-source-ranges')!);
    const parts = Object.fromEntries(emitIpvsParts(graph).map((p) => [p.name, p.text]));
    const live = joinIpvsParts({
      ipvsadm: parts.ipvsadm!,
      // ipset save adds bucketsize and initval, and lists a set of the host's own.
      ipset: `${parts.ipset!.replace(/maxelem 65536$/gm, 'maxelem 65536 bucketsize 12 initval 0x1d2a3b4c')}create blocklist hash:net family inet hashsize 1024 maxelem 65536\nadd blocklist 192.0.2.0/24\n`,
      // iptables-save prints counters and a rule of the host's own.
      iptables: parts.iptables!.replace(/^(:\S+ \S+) \[0:0\]$/gm, '$1 [12:345]').replace('*filter\n', '*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT\n'),
    });
    const model = readRuleSet(live);
    expect(plain(model)).toEqual(plain(readRuleSet(emitIpvs(graph))));
    expect(model.foreign).toEqual(['filter: -A INPUT -p tcp --dport 22 -j ACCEPT', 'ipset: blocklist']);
    expect(model.frontends.get('IPv4 tcp 198.51.100.20:443')!.sourceRanges).toEqual(['192.0.2.0/24', '198.51.100.20/32', '203.0.113.0/24']);
    expect(model.frontends.get('IPv4 tcp nodeport 30443')!.masquerade).toBe('all');
  });

  it('read ipvsadm text alone as before: frontends by address, masquerade unknown', async () => {
    const graph = await compileFixture(fixtureCases().find((f) => f.name === 'nodeport')!);
    const model = readRuleSet(emitIpvsParts(graph).find((p) => p.name === 'ipvsadm')!.text);
    expect([...model.frontends.keys()].sort()).toEqual(['IPv4 tcp 10.96.0.10:80', 'IPv4 tcp 192.0.2.10:30080']);
    expect(new Set([...model.frontends.values()].map((f) => f.masquerade))).toEqual(new Set(['unknown']));
  });

  it('read IPVS virtual servers with their real servers and persistence', async () => {
    const fixture = fixtureCases().find((f) => f.name === 'session-affinity')!;
    const model = readRuleSet(emitIpvs(await compileFixture(fixture)));
    const frontend = model.frontends.get('IPv4 tcp 10.96.0.12:80')!;
    expect(frontend.affinitySeconds).toBe(10800);
    expect(frontend.endpoints).toEqual({ '10.244.1.2:80': 0.5, '10.244.2.2:80': 0.5 });
  });
});
