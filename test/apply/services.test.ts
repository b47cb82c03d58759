import { describe, expect, it } from 'vitest';
import { parseIpvsadmSave, type IpvsState } from '../../src/apply/ipvs.js';
import { formatServiceChanges, ipvsFrontendNames, ipvsServiceChanges, refusal, serviceChanges, type InputFacts, type ServiceChanges } from '../../src/apply/services.js';
import { unionRecord } from '../../src/apply/state.js';
import { emit } from '../../src/compile.js';
import { emitIpvsParts } from '../../src/emit/ipvs/index.js';
import type { RoutingGraph } from '../../src/graph/types.js';
import { mergeModels, readRuleSet } from '../../src/read/index.js';
import type { Pod } from '../kernel/harness.js';
import { service, slices } from '../kernel/manifests.js';
import { compile } from './helpers.js';

// The pure half of apply's guard against wiping the host's Services: the
// count per Service (+N ~M -K) from the rules read back, and the decision to
// refuse. No kernel: rule texts are kpc's own output, read by src/read.

const pod = (name: string, ip: string): Pod => ({ name, netns: '', nodeName: 'node', ips: { 4: [ip], 6: [] }, ip: { 4: ip } });
const A = pod('a', '10.244.1.2');
const B = pod('b', '10.244.1.3');
const tcp = [{ port: 80 }];

function svc(name: string, ip: string, options: { endpoints?: Pod[]; ports?: { port: number; name?: string; nodePort?: number }[]; type?: 'NodePort'; v6?: string } = {}): object[] {
  const ports = options.ports ?? tcp;
  const clusterIPs = options.v6 ? [ip, options.v6] : [ip];
  return [service(name, { clusterIPs, ports, type: options.type }), ...slices(name, ports, (options.endpoints ?? [A]).map((p) => ({ pod: p })))];
}

const BASE = [...svc('web', '10.96.0.10'), ...svc('api', '10.96.0.11', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), ...svc('db', '10.96.0.12')];

type Mode = 'iptables' | 'nftables' | 'ipvs';

/** What apply would compare: the rules of two graphs read back into src/read's model. */
function count(mode: Mode, live: RoutingGraph, wanted: RoutingGraph): ServiceChanges {
  if (mode === 'ipvs') return ipvsServiceChanges(ipvsState(live), ipvsState(wanted), [], { ...ipvsFrontendNames(live), ...ipvsFrontendNames(wanted) });
  const read = (graph: RoutingGraph) => mergeModels((mode === 'iptables' ? ([4, 6] as const) : ([4] as const)).map((family) => readRuleSet(emit(graph, { mode, family }), mode)));
  return serviceChanges(read(live), read(wanted));
}

/** The IPVS state a graph's rules make (cluster IPs bound to kube-ipvs0, as kube-proxy binds them). */
function ipvsState(graph: RoutingGraph): IpvsState {
  const parts = emitIpvsParts(graph);
  const text = parts.find((p) => p.name === 'ipvsadm')!.text;
  return { services: parseIpvsadmSave(text.split('\n').filter((l) => l.startsWith('-')).join('\n')), sets: new Map(), addresses: graph.servicePorts.map((r) => `${r.clusterIP}/${r.family === 4 ? 32 : 128}`) };
}

const none = (live: number): ServiceChanges => ({ added: [], changed: [], removed: [], live });

describe.each(['iptables', 'nftables', 'ipvs'] as const)('%s: Services counted from the rules read back', (mode) => {
  const base = compile(BASE);

  it('the same rules: nothing added, changed or removed; the live count is per Service', () => {
    expect(count(mode, base, base)).toEqual(none(3));
  });

  it('an empty input removes every Service; an empty host gains every one', () => {
    const empty = compile([]);
    expect(count(mode, base, empty)).toEqual({ added: [], changed: [], removed: ['test/api', 'test/db', 'test/web'], live: 3 });
    expect(count(mode, empty, base)).toEqual({ added: ['test/api', 'test/db', 'test/web'], changed: [], removed: [], live: 0 });
  });

  it('one Service per ns/name, whatever its ports, node ports and families; a changed endpoint or cluster IP is a change, not a removal', () => {
    const next = compile([
      ...svc('web', '10.96.0.20', { v6: 'fd00:10:96::20' }),
      ...svc('api', '10.96.0.11', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }], endpoints: [A, B] }),
      ...svc('cache', '10.96.0.30', { ports: [{ port: 6379, name: 'redis' }, { port: 6380, name: 'tls' }] }),
    ]);
    const changes = count(mode, base, next);
    expect(changes.added).toEqual(['test/cache']);
    expect(changes.removed).toEqual(['test/db']);
    expect(changes.live).toBe(3);
    // web moved to another cluster IP: IPVS rules name no Service, the graph's names (kept in apply's record) do.
    expect(changes.changed).toEqual(['test/api', 'test/web']);
    expect(formatServiceChanges(changes)).toBe('+1 ~2 -1 services (removed: test/db)');
    // web is dual-stack now: one Service, two families' frontends.
    expect(count(mode, next, next)).toEqual(none(3));
  });
});

describe('IPVS: only kpc\'s own virtual services count, and unnamed ones count one each', () => {
  const base = compile(BASE);
  const live = ipvsState(base);
  // A user's virtual service on the node's own address: not on kube-ipvs0, not recorded, not wanted.
  live.services.set('-t 192.0.2.10:22', { key: '-t 192.0.2.10:22', options: '-s wlc', reals: new Map([['10.0.0.5:22', '-g -w 1']]) });
  const empty = ipvsState(compile([]));

  it('a foreign virtual service is neither live nor removed', () => {
    const changes = ipvsServiceChanges(live, empty, ['-t 192.0.2.10:30080'], ipvsFrontendNames(base));
    expect(changes).toEqual({ added: [], changed: [], removed: ['test/api', 'test/db', 'test/web'], live: 3 });
  });

  it('without names (no record from an earlier apply), each of kpc\'s virtual services counts as one; still refused when all go', () => {
    const changes = ipvsServiceChanges(live, empty, ['-t 192.0.2.10:30080'], {});
    expect(changes.removed).toEqual(['frontend IPv4 tcp 10.96.0.10:80', 'frontend IPv4 tcp 10.96.0.11:80', 'frontend IPv4 tcp 10.96.0.12:80', 'frontend IPv4 tcp 192.0.2.10:30080']);
    expect(refusal(changes, { objects: 1, servicePorts: 0, skipped: [] })).toMatch(/remove all 4 Services/);
  });

  it('the record keeps names old and new across the commit', () => {
    const a = { version: 1 as const, udp: [], ipvsServices: [], ipvsNames: { 'IPv4 tcp 10.96.0.10:80': 'test/web' } };
    const b = { version: 1 as const, udp: [], ipvsServices: [], ipvsNames: { 'IPv4 tcp 10.96.0.20:80': 'test/web2' } };
    expect(unionRecord(a, b).ipvsNames).toEqual({ 'IPv4 tcp 10.96.0.10:80': 'test/web', 'IPv4 tcp 10.96.0.20:80': 'test/web2' });
    expect(unionRecord({ version: 1, udp: [], ipvsServices: [] }, { version: 1, udp: [], ipvsServices: [] }).ipvsNames).toEqual({});
  });
});

describe('the summary line', () => {
  it('names up to ten removed Services and counts the rest', () => {
    const removed = Array.from({ length: 12 }, (_, i) => `ns/s${String(i).padStart(2, '0')}`);
    expect(formatServiceChanges({ added: ['a/x'], changed: [], removed, live: 12 })).toBe(
      '+1 ~0 -12 services (removed: ns/s00, ns/s01, ns/s02, ns/s03, ns/s04, ns/s05, ns/s06, ns/s07, ns/s08, ns/s09, and 2 more)',
    );
    expect(formatServiceChanges(none(4))).toBe('+0 ~0 -0 services');
  });
});

describe('refusal: when apply needs --allow-empty', () => {
  const input = (facts: Partial<InputFacts>): InputFacts => ({ objects: 5, servicePorts: 3, skipped: [], ...facts });
  const all = (live: number): ServiceChanges => ({ added: [], changed: [], removed: Array.from({ length: live }, (_, i) => `ns/s${i}`), live });

  it.each<[string, ServiceChanges | null, Partial<InputFacts>, RegExp | null]>([
    ['no objects, on a host with Services', all(12), { objects: 0, servicePorts: 0 }, /^refusing to apply: the input has no objects .*remove all 12 Services kpc has on this host; nothing was changed; .*--allow-empty$/],
    ['no objects, on a host with none (kubectl refuses an empty input too)', null, { objects: 0, servicePorts: 0 }, /^refusing to apply: the input has no objects \(an empty file, or a dump cut short\?\); nothing was changed/],
    ['objects but no Service', all(2), { servicePorts: 0 }, /the input has no Service, so applying it would remove all 2 Services/],
    [
      'every Service skipped',
      all(3),
      {
        servicePorts: 0,
        skipped: [
          { namespace: 'a', name: 'x', reason: 'no clusterIP allocated yet (the API server assigns one; set spec.clusterIP to compile this Service)' },
          { namespace: 'a', name: 'y', reason: 'no clusterIP allocated yet (the API server assigns one; set spec.clusterIP to compile this Service)' },
          { namespace: 'a', name: 'z', reason: 'headless (clusterIP: None): clients reach pods directly through DNS, no proxy rules' },
        ],
      },
      /the input compiles to no Service: 3 Services skipped \(1 headless, 2 with no cluster IP allocated\), so applying it would remove all 3/,
    ],
    ['other Services only (another cluster\'s manifests?)', { added: ['b/new'], changed: [], removed: ['a/old'], live: 1 }, {}, /none of the host's 1 Services is in the input/],
    ['some removed, some kept', { added: [], changed: [], removed: ['a/x'], live: 2 }, {}, null],
    ['nothing changes', null, {}, null],
    ['an empty host', { added: ['a/x'], changed: [], removed: [], live: 0 }, {}, null],
    ['an input of no Service on a host with none', none(0), { servicePorts: 0 }, null],
  ])('%s', (_name, changes, facts, expected) => {
    const result = refusal(changes, input(facts));
    if (expected === null) expect(result).toBeNull();
    else expect(result).toMatch(expected);
  });
});
