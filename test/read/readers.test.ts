import { describe, expect, it } from 'vitest';
import { emitIpvs } from '../../src/emit/ipvs/index.js';
import { detectFormat, mergeModels, readRuleSet, type RuleSetModel } from '../../src/read/index.js';
import { compileFixture, fixtureCases, render } from '../helpers/fixtures.js';
import { plain } from '../helpers/model.js';

function both(graph: Awaited<ReturnType<typeof compileFixture>>): { iptables: RuleSetModel; nftables: RuleSetModel } {
  return {
    iptables: mergeModels([readRuleSet(render(graph, 'iptables', 4)), readRuleSet(render(graph, 'iptables', 6))]),
    nftables: readRuleSet(render(graph, 'nftables')),
  };
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
      expect(plain(iptables)).toEqual(plain(nftables));
      // Not vacuous: every service port with a cluster IP shows up as a frontend.
      const expected = graph.servicePorts.length;
      const clusterFrontends = [...nftables.frontends.values()].filter((f) => f.kind === 'cluster-ip').length;
      expect(clusterFrontends).toBe(expected);
      expect(iptables.foreign).toEqual([]);
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

  it('read IPVS virtual servers with their real servers and persistence', async () => {
    const fixture = fixtureCases().find((f) => f.name === 'session-affinity')!;
    const model = readRuleSet(emitIpvs(await compileFixture(fixture)));
    const frontend = model.frontends.get('IPv4 tcp 10.96.0.12:80')!;
    expect(frontend.affinitySeconds).toBe(10800);
    expect(frontend.endpoints).toEqual({ '10.244.1.2:80': 0.5, '10.244.2.2:80': 0.5 });
  });
});
