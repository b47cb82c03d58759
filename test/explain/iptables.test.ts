import { describe, expect, it } from 'vitest';
import { explainPacket, type Packet } from '../../src/explain/index.js';

/** Tracer semantics on small hand-written iptables-save texts. */

const NODE = { ips: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] };
const packet = (src: string, dst: string, dport = 80): Packet => ({ family: 4, src, dst, dport, protocol: 'tcp' });
const trace = (text: string, p: Packet) => explainPacket(text, 'iptables', p, NODE);

describe('iptables tracer', () => {
  it('splits by statistic probability, each taking its share of what is left', () => {
    const text = [
      '*nat',
      ':KUBE-SVC-A - [0:0]',
      '[5:300] -A PREROUTING -j KUBE-SVC-A',
      '-A KUBE-SVC-A -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 10.244.1.2:8080',
      '-A KUBE-SVC-A -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 10.244.1.3:8080',
      '-A KUBE-SVC-A -j DNAT --to-destination 10.244.1.4:8080',
      'COMMIT',
    ].join('\n');
    const e = trace(text, packet('10.244.9.9', '10.96.0.1'));
    expect(e.outcomes.map((o) => [o.kind === 'backend' && o.endpoint, Math.round(o.probability * 1000) / 1000])).toEqual([
      ['10.244.1.2:8080', 0.333],
      ['10.244.1.3:8080', 0.333],
      ['10.244.1.4:8080', 0.333],
    ]);
    expect(e.paths[0]!.steps[0]!.rule).toBe('-A PREROUTING -j KUBE-SVC-A');
  });

  it('reads the 1/k a rounded probability stands for, and any other probability exactly as written', () => {
    const chain = (p1: string, p2: string) =>
      [
        '*nat',
        ':KUBE-SVC-A - [0:0]',
        '-A PREROUTING -j KUBE-SVC-A',
        `-A KUBE-SVC-A -m statistic --mode random --probability ${p1} -j DNAT --to-destination 10.244.1.2:8080`,
        `-A KUBE-SVC-A -m statistic --mode random --probability ${p2} -j DNAT --to-destination 10.244.1.3:8080`,
        '-A KUBE-SVC-A -j DNAT --to-destination 10.244.1.4:8080',
        'COMMIT',
      ].join('\n');
    const shares = (p1: string, p2: string) => trace(chain(p1, p2), packet('10.244.9.9', '10.96.0.1')).outcomes.map((o) => o.share);
    // kube-proxy's ten decimals, the kernel's listing of them, an old release's five decimals after an old kernel.
    expect(shares('0.3333333333', '0.5000000000')).toEqual(['1/3', '1/3', '1/3']);
    expect(shares('0.33333333349', '0.50000000000')).toEqual(['1/3', '1/3', '1/3']);
    expect(shares('0.33332999982', '0.50000')).toEqual(['1/3', '1/3', '1/3']);
    // Not kube-proxy's: taken as written, and the shares still add up to exactly 1.
    expect(shares('0.3', '0.5')).toEqual(['3/10', '7/20', '7/20']);
    expect(shares('0.25', '0.5')).toEqual(['1/4', '3/8', '3/8']);
  });

  it('a goto does not come back: where the called chain ends, the caller has ended too', () => {
    const text = ['*nat', ':A - [0:0]', ':B - [0:0]', '-A PREROUTING -j A', '-A A -g B', '-A A -j DNAT --to-destination 10.244.1.2:80', '-A PREROUTING -j DNAT --to-destination 10.244.1.3:80', 'COMMIT'].join('\n');
    const e = trace(text, packet('203.0.113.1', '10.96.0.1'));
    expect(e.outcomes).toEqual([{ kind: 'backend', probability: 1, share: '1', service: null, endpoint: '10.244.1.3:80', masquerade: false }]);
  });

  it('marks for masquerade, then masquerades in POSTROUTING; a packet to a node address goes to INPUT', () => {
    const text = [
      '*nat',
      ':KUBE-MARK-MASQ - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j KUBE-MARK-MASQ',
      '-A PREROUTING -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DNAT --to-destination 10.244.1.2:80',
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
      '-A POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A POSTROUTING -j MASQUERADE --random-fully',
      'COMMIT',
      '*filter',
      ':INPUT DROP [0:0]',
      'COMMIT',
    ].join('\n');
    expect(trace(text, packet('203.0.113.1', '192.0.2.10', 30080)).outcomes).toEqual([{ kind: 'backend', probability: 1, share: '1', service: null, endpoint: '10.244.1.2:80', masquerade: true }]);
    // Not a node port: not translated, so it is for the node itself, where INPUT's policy drops it.
    const input = trace(text, packet('203.0.113.1', '192.0.2.10', 22));
    expect(input.outcomes).toEqual([{ kind: 'drop', probability: 1, share: '1', service: null, reason: 'filter INPUT policy DROP' }]);
  });

  it('starts in OUTPUT for the node itself and names the service from the comment', () => {
    const text = [
      '*nat',
      '-A OUTPUT -m comment --comment "ns/web:http cluster IP" -d 10.96.0.1/32 -j DNAT --to-destination 10.244.1.2:80',
      'COMMIT',
      '*filter',
      '-A OUTPUT -m comment --comment "ns/db has no endpoints" -d 10.96.0.2/32 -j REJECT',
      'COMMIT',
    ].join('\n');
    const e = trace(text, packet('192.0.2.10', '10.96.0.1'));
    expect(e.hook).toBe('OUTPUT');
    expect(e.outcomes[0]).toMatchObject({ kind: 'backend', service: 'ns/web:http' });
    expect(trace(text, packet('192.0.2.10', '10.96.0.2')).outcomes).toEqual([
      { kind: 'reject', probability: 1, share: '1', service: 'ns/db', reason: expect.stringMatching(/^no endpoints/) },
    ]);
    // From a pod it starts in PREROUTING, where nothing translates it.
    expect(trace(text, packet('10.244.1.9', '10.96.0.1')).outcomes[0]).toMatchObject({ kind: 'untouched', delivered: 'forwarded' });
  });

  it('warns about what it cannot evaluate and treats it as not matching', () => {
    const text = ['*nat', '-A PREROUTING -i eth0 -j DNAT --to-destination 10.244.1.2:80', 'COMMIT'].join('\n');
    const e = trace(text, packet('203.0.113.1', '10.96.0.1'));
    expect(e.outcomes[0]!.kind).toBe('untouched');
    expect(e.warnings).toEqual([expect.stringContaining('cannot evaluate -i eth0')]);
  });

  it('reads an affinity check as not matching for a new client, and reports its timeout', () => {
    const text = [
      '*nat',
      ':KUBE-SVC-A - [0:0]',
      '-A PREROUTING -j KUBE-SVC-A',
      '-A KUBE-SVC-A -m recent --name KUBE-SEP-X --rcheck --seconds 10800 --reap -j DNAT --to-destination 10.244.1.9:80',
      '-A KUBE-SVC-A -j DNAT --to-destination 10.244.1.2:80',
      'COMMIT',
    ].join('\n');
    const e = trace(text, packet('10.244.1.5', '10.96.0.1'));
    expect(e.affinitySeconds).toBe(10800);
    expect(e.outcomes).toMatchObject([{ endpoint: '10.244.1.2:80' }]);
  });

  it('says so when an IPv6 packet meets IPv4-only rules', () => {
    const text = ['*nat', '-A PREROUTING -d 10.96.0.1/32 -j DNAT --to-destination 10.244.1.2:80', 'COMMIT'].join('\n');
    const e = explainPacket(text, 'iptables', { family: 6, src: 'fd00::9', dst: 'fd00:10:96::1', dport: 80, protocol: 'tcp' }, NODE);
    expect(e.warnings).toEqual([expect.stringContaining('an IPv6 packet needs the ip6tables-save rules')]);
    expect(trace(text, packet('10.244.1.9', '10.96.0.1')).warnings).toEqual([]);
  });
});
