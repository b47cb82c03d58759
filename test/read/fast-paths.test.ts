import { describe, expect, it } from 'vitest';
import { readRuleSet } from '../../src/read/index.js';
import { parseIptablesText } from '../../src/read/iptables-rules.js';
import { parseNftText, splitElements } from '../../src/read/nft-text.js';
import { plain } from '../helpers/model.js';

/**
 * The readers take shortcuts for text written the way kpc, kube-proxy and the
 * kernel tools write it (single spaces, printable ASCII, unquoted chain names)
 * and fall back to the general reading otherwise. Each case here reads text
 * that misses a shortcut and checks it means the same as the plain text.
 */

const NFT = [
  'add table ip kube-proxy',
  'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }',
  'add set ip kube-proxy affinity-X { type ipv4_addr ; flags dynamic,timeout ; timeout 3h ; }',
  'add chain ip kube-proxy service-AAAAAAAA-ns/web/tcp/http',
  'add chain ip kube-proxy endpoint-BBBBBBBB-ns/web/tcp/http__10.0.0.1/80',
  'add chain ip kube-proxy endpoint-CCCCCCCC-ns/web/tcp/http__10.0.0.2/80',
  'add rule ip kube-proxy service-AAAAAAAA-ns/web/tcp/http ip daddr 10.96.0.1 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade',
  'add rule ip kube-proxy service-AAAAAAAA-ns/web/tcp/http ip saddr @affinity-X goto endpoint-BBBBBBBB-ns/web/tcp/http__10.0.0.1/80',
  'add rule ip kube-proxy service-AAAAAAAA-ns/web/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-BBBBBBBB-ns/web/tcp/http__10.0.0.1/80, 1 : goto endpoint-CCCCCCCC-ns/web/tcp/http__10.0.0.2/80 }',
  'add rule ip kube-proxy endpoint-BBBBBBBB-ns/web/tcp/http__10.0.0.1/80 meta l4proto tcp dnat to 10.0.0.1:80',
  'add rule ip kube-proxy endpoint-CCCCCCCC-ns/web/tcp/http__10.0.0.2/80 meta l4proto tcp dnat to 10.0.0.2:80',
  'add element ip kube-proxy service-ips { 10.96.0.1 . tcp . 80 : goto service-AAAAAAAA-ns/web/tcp/http }',
].join('\n');

describe('nft reader shortcuts', () => {
  it('reads tabs, runs of spaces, counters and comments as single-spaced text', () => {
    const irregular = NFT.split('\n')
      .map((line) => line.replace(/ /g, (_, i: number) => (i % 3 === 0 ? '\t ' : i % 3 === 1 ? '  ' : ' ')))
      .map((line) => (line.startsWith('add rule') ? `${line} counter packets 12 bytes 720 comment "a  comment"` : line))
      .join('\n');
    expect(irregular).not.toBe(NFT);
    expect(parseNftText(irregular)).toEqual(parseNftText(NFT));
    expect(plain(readRuleSet(irregular, 'nftables'))).toEqual(plain(readRuleSet(NFT)));
    expect(readRuleSet(NFT).frontends.get('IPv4 tcp 10.96.0.1:80')).toMatchObject({ service: 'ns/web:http', affinitySeconds: 10800, masquerade: 'off-cluster 10.244.0.0/16' });
  });

  it('reads elements spread over lines, with white space other than spaces', () => {
    const [table] = parseNftText('add table ip t\nadd set ip t s { type ipv4_addr ; }\nadd element ip t s {\n\t10.0.0.1,\n\t10.0.0.2 ,\u00a010.0.0.3\n}\n');
    expect(table!.containers.get('s')).toEqual({ spec: ' type ipv4_addr ; ', elements: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] });
  });

  it('splits elements at top-level commas only, spacing each', () => {
    expect(splitElements(' a ,  b  c , "x, y" , { d, e } : f ,, ')).toEqual(['a', 'b c', '"x, y"', '{ d, e } : f']);
  });

  it('keeps a rule whose chain name ends the statement, and chains of one table apart from another', () => {
    const tables = parseNftText('add rule ip a c1 accept\nadd rule ip b c1 drop\nadd rule ip a c1 drop\nadd chain ip a c2');
    expect(tables.map((t) => [t.name, [...t.chains]])).toEqual([
      ['a', [['c1', ['accept', 'drop']], ['c2', []]]],
      ['b', [['c1', ['drop']]]],
    ]);
  });
});

const IPT = [
  '*nat',
  ':KUBE-SERVICES - [0:0]',
  ':KUBE-SVC-A - [0:0]',
  ':KUBE-SEP-1 - [0:0]',
  ':KUBE-SEP-2 - [0:0]',
  ':UNUSED - [0:0]',
  '-A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 -j KUBE-SVC-A',
  '-A KUBE-SVC-A -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ',
  '-A KUBE-SVC-A -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-1',
  '-A KUBE-SVC-A -j KUBE-SEP-2',
  '-A KUBE-SEP-1 -m comment --comment ns/web:http -s 10.0.0.1 -j KUBE-MARK-MASQ',
  '-A KUBE-SEP-1 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.0.0.1:80',
  '-A KUBE-SEP-2 -m comment --comment "ns/web:http" -s 10.0.0.2 -j KUBE-MARK-MASQ',
  '-A KUBE-SEP-2 -m comment --comment "ns/web:http" -m tcp -p tcp -j DNAT "--to-destination" 10.0.0.2:80',
  'COMMIT',
].join('\n');

describe('iptables reader shortcuts', () => {
  it('reads the chain of an -A line written with tabs, several spaces, counters or quotes', () => {
    const { rules } = parseIptablesText('*nat\n-A\tKUBE-A -j X\n-A   KUBE-B -j X\n[1:2] -A KUBE-C -j X\n-A "KUBE-D" -j X\n-A KUBE-"E" -j X\n-AX KUBE-F\n-A\n');
    expect(rules.map((r) => [r.chain, r.text])).toEqual([
      ['KUBE-A', '-A\tKUBE-A -j X'],
      ['KUBE-B', '-A   KUBE-B -j X'],
      ['KUBE-C', '-A KUBE-C -j X'],
      ['KUBE-D', '-A "KUBE-D" -j X'],
      ['KUBE-E', '-A KUBE-"E" -j X'],
    ]);
    expect(parseIptablesText('*filter\n-A INPUT ! --source 10.0.0.0/8 -m tcp -p tcp -j DROP\n').rules[0]!.options).toEqual(
      new Map([
        ['-s', { value: '10.0.0.0/8', negated: true }],
        ['-p', { value: 'tcp', negated: false }],
        ['-j', { value: 'DROP', negated: false }],
      ]),
    );
  });

  it('finds a DNAT target however the option is quoted, and lists declared chains without rules as foreign', () => {
    const model = readRuleSet(IPT);
    expect(model.frontends.get('IPv4 tcp 10.96.0.1:80')).toMatchObject({ endpoints: { '10.0.0.1:80': 0.5, '10.0.0.2:80': 0.5 }, masquerade: 'off-cluster 10.244.0.0/16' });
    expect(model.foreign).toEqual(['nat: chain UNUSED']);
  });

  it('tells IPv6 rules by their addresses, even where quotes split the colons', () => {
    expect(readRuleSet(IPT).families).toEqual([4]);
    expect(readRuleSet(IPT.replace('-d 10.96.0.1 --dport 80 -j KUBE-SVC-A', '-d fd00::1 --dport 80 -j KUBE-SVC-A')).families).toEqual([6]);
    expect(readRuleSet(IPT.replace('-d 10.96.0.1 --dport 80 -j KUBE-SVC-A', '-d fd00:"":1 --dport 80 -j KUBE-SVC-A')).families).toEqual([6]);
  });
});
