import { readFileSync } from 'node:fs';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { nodeOptionsFrom } from '../src/cli/node-options.js';
import { compileGraph, emit } from '../src/compile.js';
import type { RoutingGraph } from '../src/graph/types.js';
import { compileFixture, fixtureCases } from './helpers/fixtures.js';

/**
 * Valid but unusual input (names of the maximum length, IPv6 endpoints, dual
 * stack, every Service feature) must still give output whose every line reads
 * as intended: each iptables `--comment` is one safe token or a double-quoted
 * string with no quote or backslash inside, each nft `comment "..."` likewise,
 * and no line holds a control character or an unbalanced quote.
 */

const label = (c: string, n = 63) => `${c}${'x'.repeat(n - 2)}${c}`; // 63 characters, starting and ending with c
const NS = label('n');
const NAME = label('s'); // DNS-1035: starts with a letter
const PORT = label('p');

const UNUSUAL = [
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAME, namespace: NS, annotations: { 'kpc.dev/ipvs-scheduler': 'sh' } },
    spec: {
      type: 'LoadBalancer',
      selector: { app: 'web' },
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10', 'fd00:96::a'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
      externalIPs: ['192.0.2.100', '2001:db8:100::1'],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      loadBalancerSourceRanges: ['203.0.113.0/24', '2001:db8:ff::/48'],
      ports: [
        { name: PORT, port: 65535, targetPort: 'web-x1', nodePort: 30080, protocol: 'TCP' },
        { name: '0-a', port: 53, targetPort: 5353, nodePort: 30053, protocol: 'UDP' },
        { name: 'sctp', port: 9, targetPort: 9, nodePort: 30009, protocol: 'SCTP' },
      ],
    },
    status: { loadBalancer: { ingress: [{ ip: '198.51.100.10' }, { ip: '2001:db8:ffff::10' }] } },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'a', namespace: '0' },
    spec: { clusterIP: 'fd00:96::b', clusterIPs: ['fd00:96::b'], ipFamilies: ['IPv6'], internalTrafficPolicy: 'Local', ports: [{ port: 1, targetPort: 65535 }] },
  },
  ...(['IPv4', 'IPv6'] as const).map((family) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${label('e', 200)}.${family.toLowerCase()}`, namespace: NS, labels: { 'kubernetes.io/service-name': NAME } },
    addressType: family,
    ports: [
      { name: PORT, port: 8080, protocol: 'TCP' },
      { name: '0-a', port: 5353, protocol: 'UDP' },
      { name: 'sctp', port: 9, protocol: 'SCTP' },
    ],
    endpoints:
      family === 'IPv4'
        ? [
            { addresses: ['10.244.1.2'], nodeName: 'node-a', zone: 'zone-a', conditions: { ready: true } },
            { addresses: ['10.244.2.2'], nodeName: label('m', 253).replace(/x{60}/g, (m) => `${m.slice(0, 59)}.`), conditions: { ready: true } },
          ]
        : [
            { addresses: ['2001:db8:ffff:ffff:ffff:ffff:ffff:fff1'], nodeName: 'node-a', hostname: label('h'), conditions: { ready: true } },
            { addresses: ['fd00:10:244:2::2'], nodeName: 'node-b', conditions: { ready: false, serving: true, terminating: true } },
            { addresses: ['fd00:10:244:3::3'], nodeName: 'node-a' },
          ],
  })),
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'a-1', namespace: '0', labels: { 'kubernetes.io/service-name': 'a' } },
    addressType: 'IPv6',
    ports: [{ port: 65535 }],
    endpoints: [{ addresses: ['2001:db8::1'], nodeName: 'node-a' }],
  },
];

const SAFE_TOKEN = /^[A-Za-z0-9._:/\-[\]>,()=@]+$/;
/** A double-quoted string with nothing inside that could end it early or escape: no quote, backslash or control character. */
const SAFE_QUOTED = /^"[^"\\\u0000-\u001f\u007f-\u009f]*"$/;
const RAW = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Splits a rule line into arguments as iptables-restore does: spaces separate, double quotes group. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unbalanced quote in: ${line}`);
      out.push(line.slice(i, end + 1));
      i = end + 1;
    } else {
      const end = line.indexOf(' ', i);
      const token = line.slice(i, end < 0 ? line.length : end);
      if (token.includes('"')) throw new Error(`a quote inside a token in: ${line}`);
      out.push(token);
      i = end < 0 ? line.length : end;
    }
  }
  return out;
}

function checkIptables(text: string): number {
  let comments = 0;
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  for (const line of lines) {
    expect(line, JSON.stringify(line)).not.toMatch(RAW);
    expect(line).toMatch(/^(# Generated by kpc for node [a-z0-9.-]+(, with cluster IPs, node ports and pods simulated by kpc \(not read from a cluster\))?: load with ip6?tables-restore|\*(filter|nat)|:[A-Z0-9-]+ (ACCEPT|-) \[0:0\]|COMMIT|-A [A-Z0-9-]+ .+)$/);
    if (!line.startsWith('-A ')) continue;
    const args = tokens(line);
    args.forEach((arg, i) => {
      if (arg.startsWith('"')) {
        expect(args[i - 1], `a quoted argument that is not a comment: ${line}`).toBe('--comment');
        expect(arg, line).toMatch(SAFE_QUOTED);
        expect(arg.slice(1, -1), line).toContain(' '); // iptables-save quotes only text with spaces
      } else {
        expect(arg, line).toMatch(/^[A-Za-z0-9._:/\-[\]>,()=@!+*%]+$/);
      }
      if (arg === '--comment') {
        comments++;
        const value = args[i + 1]!;
        expect(SAFE_TOKEN.test(value) || SAFE_QUOTED.test(value), `unsafe --comment ${value} in: ${line}`).toBe(true);
        expect(value.replace(/^"|"$/g, '').length, line).toBeLessThanOrEqual(255); // xt_comment's limit
      }
    });
  }
  return comments;
}

function checkNftables(text: string): number {
  let comments = 0;
  for (const line of text.split('\n')) {
    expect(line, JSON.stringify(line)).not.toMatch(RAW);
    expect((line.match(/"/g) ?? []).length % 2, `unbalanced quotes in: ${line}`).toBe(0);
    if (line.startsWith('#')) {
      expect(line).toMatch(/^(#!\/usr\/sbin\/nft -f|# Generated by kpc for node [a-z0-9.-]+(, with cluster IPs, node ports and pods simulated by kpc \(not read from a cluster\))?: load with nft -f|# [A-Za-z0-9 ():,.-]+)$/);
      continue;
    }
    // Every quoted string is a comment, with nothing in it that could end it early.
    for (const match of line.matchAll(/"[^"]*"/g)) {
      expect(line.slice(0, match.index).endsWith('comment '), `a quoted string that is not a comment: ${line}`).toBe(true);
      expect(match[0], line).toMatch(SAFE_QUOTED);
      expect(match[0].length - 2, line).toBeLessThanOrEqual(128); // nft's comment limit
      comments++;
    }
    expect(line.replace(/"[^"]*"/g, '""'), line).toMatch(/^\t?[A-Za-z0-9 ._:/\-[\]{}>,()=@!;.$*%"<|&^~+]*$/);
  }
  return comments;
}

/** The IPVS bundle: ipset, ipvsadm and iptables parts between `### BEGIN`/`### END` lines. */
function checkIpvs(text: string): void {
  const iptables: string[] = [];
  let part = '';
  for (const line of text.split('\n')) {
    expect(line, JSON.stringify(line)).not.toMatch(RAW);
    const begin = /^### BEGIN (\S+)/.exec(line);
    if (begin) part = begin[1]!;
    else if (line.startsWith('### END')) part = '';
    else if (part.startsWith('ip') && part.includes('tables') && line !== '') iptables.push(line);
    else if (!line.startsWith('#')) expect(line, line).toMatch(/^[A-Za-z0-9 ._:/\-[\],=]*$/);
  }
  expect(iptables.length).toBeGreaterThan(0);
  checkIptables(`${iptables.filter((l) => !l.startsWith('#')).join('\n')}\n`);
}

function checkAll(graph: RoutingGraph): void {
  expect(checkIptables(emit(graph, { mode: 'iptables', family: 4 }))).toBeGreaterThan(0);
  if (graph.servicePorts.some((p) => p.family === 6)) expect(checkIptables(emit(graph, { mode: 'iptables', family: 6 }))).toBeGreaterThan(0);
  checkNftables(emit(graph, { mode: 'nftables', family: 4 }));
  checkIpvs(emit(graph, { mode: 'ipvs', family: 4 }));
}

describe('output safety', () => {
  it('valid but unusual input: 63-character names, IPv6 endpoints, dual stack, every feature', async () => {
    const text = UNUSUAL.map((o) => dump(o, { lineWidth: -1 })).join('---\n');
    const options = await nodeOptionsFrom({ nodeName: 'node-a', nodeIp: ['192.0.2.10', '2001:db8::10'], clusterCidr: ['10.244.0.0/16', 'fd00:10:244::/56'] });
    const { graph } = compileGraph([{ name: 'unusual.yaml', text }], options);
    // The unusual objects made it into the rules, in both families.
    expect(graph.servicePorts.map((p) => p.servicePortName)).toContain(`${NS}/${NAME}:${PORT}`);
    expect(graph.servicePorts.filter((p) => p.family === 6).length).toBeGreaterThan(0);
    const v6 = emit(graph, { mode: 'iptables', family: 6 });
    expect(v6).toContain('[2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:8080');
    expect(v6).toContain(`--comment "${NS}/${NAME}:${PORT} cluster IP"`);
    checkAll(graph);
  });

  for (const fixture of fixtureCases()) {
    it(`fixture ${fixture.name}`, async () => {
      checkAll(await compileFixture(fixture));
    });
  }

  it('the checks themselves catch a comment that breaks out', () => {
    expect(() => checkIptables('-A KUBE-SERVICES -m comment --comment "p80" -j ACCEPT" -j DROP\n')).toThrow();
    expect(() => checkIptables('-A KUBE-SERVICES -m comment --comment a;b -j DROP\n')).toThrow();
    expect(() => checkIptables('-A KUBE-SERVICES -m comment --comment "a\u2028b" -j DROP\n')).toThrow();
    expect(() => checkNftables('add rule ip kube-proxy services comment "x" accept comment "y"')).not.toThrow();
    expect(() => checkNftables('add rule ip kube-proxy services ip daddr "10.0.0.1" accept')).toThrow();
    expect(() => checkNftables('add rule ip kube-proxy services comment "a\\" accept')).toThrow();
  });

  it('the header names the node only by a validated name', () => {
    const text = readFileSync(new URL('../examples/shop/services.yaml', import.meta.url), 'utf8');
    const { graph } = compileGraph([{ name: 's.yaml', text }], { nodeName: 'node-a.example.com' });
    expect(emit(graph, { mode: 'iptables', family: 4 }).split('\n')[0]).toBe('# Generated by kpc for node node-a.example.com: load with iptables-restore');
  });
});
