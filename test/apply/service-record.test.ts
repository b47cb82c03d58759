import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forgetOthers, keepLoaded, loadedPath, readLoaded, RECORD_SUFFIX } from '../../src/apply/generation.js';
import { keepServiceRecord, readServiceRecord, recordChanges, serviceRecord, type ServiceRecord } from '../../src/apply/service-record.js';
import { refusal, serviceChanges, type ServiceChanges } from '../../src/apply/services.js';
import { emit } from '../../src/compile.js';
import type { RoutingGraph } from '../../src/graph/types.js';
import { mergeModels, readRuleSet } from '../../src/read/index.js';
import type { Pod } from '../kernel/harness.js';
import { service, slices } from '../kernel/manifests.js';
import { compile } from './helpers.js';

// The incremental path counts Services (+N ~M -K) from small records kept
// with the texts instead of reading both whole texts back. The records must
// give what the read-back gives, say when they cannot (then apply reads
// back), and live and die with the text they describe.

const pod = (name: string, ip: string): Pod => ({ name, netns: '', nodeName: 'node', ips: { 4: [ip], 6: [] }, ip: { 4: ip } });
const A = pod('a', '10.244.1.2');
const B = pod('b', '10.244.1.3');

type Conditions = { ready?: boolean; serving?: boolean; terminating?: boolean };

function svc(name: string, ip: string, options: { endpoints?: Pod[]; port?: number; v6?: string; nodePort?: number; conditions?: Conditions } = {}): object[] {
  const ports = [{ port: options.port ?? 80, ...(options.nodePort ? { nodePort: options.nodePort } : {}) }];
  const clusterIPs = options.v6 ? [ip, options.v6] : [ip];
  return [service(name, { clusterIPs, ports, ...(options.nodePort ? { type: 'NodePort' as const } : {}) }), ...slices(name, ports, (options.endpoints ?? [A]).map((p) => ({ pod: p, ...options.conditions })))];
}

const BASE = compile([...svc('web', '10.96.0.10', { v6: 'fd00:10:96::10' }), ...svc('api', '10.96.0.11', { nodePort: 30080 }), ...svc('db', '10.96.0.12')]);

const CASES: [string, RoutingGraph, ServiceChanges][] = [
  ['one endpoint changed: ~1', compile([...svc('web', '10.96.0.10', { v6: 'fd00:10:96::10' }), ...svc('api', '10.96.0.11', { nodePort: 30080, endpoints: [B] }), ...svc('db', '10.96.0.12')]), { added: [], changed: ['test/api'], removed: [], live: 3 }],
  ['an endpoint added: ~1', compile([...svc('web', '10.96.0.10', { v6: 'fd00:10:96::10' }), ...svc('api', '10.96.0.11', { nodePort: 30080 }), ...svc('db', '10.96.0.12', { endpoints: [A, B] })]), { added: [], changed: ['test/db'], removed: [], live: 3 }],
  ['a Service only in the old rules: -1', compile([...svc('web', '10.96.0.10', { v6: 'fd00:10:96::10' }), ...svc('api', '10.96.0.11', { nodePort: 30080 })]), { added: [], changed: [], removed: ['test/db'], live: 3 }],
  ['a new Service and a changed port: +1 ~1', compile([...svc('web', '10.96.0.10', { v6: 'fd00:10:96::10', port: 8080 }), ...svc('api', '10.96.0.11', { nodePort: 30080 }), ...svc('db', '10.96.0.12'), ...svc('cache', '10.96.0.30')]), { added: ['test/cache'], changed: ['test/web'], removed: [], live: 3 }],
  ['web loses its IPv6 family: ~1', compile([...svc('web', '10.96.0.10'), ...svc('api', '10.96.0.11', { nodePort: 30080 }), ...svc('db', '10.96.0.12')]), { added: [], changed: ['test/web'], removed: [], live: 3 }],
  ['no endpoints any more: ~1', compile([...svc('web', '10.96.0.10', { v6: 'fd00:10:96::10' }), service('api', { clusterIPs: ['10.96.0.11'], ports: [{ port: 80, nodePort: 30080 }], type: 'NodePort' }), ...svc('db', '10.96.0.12')]), { added: [], changed: ['test/api'], removed: [], live: 3 }],
  // Only the endpoint's flags change (its address and port do not).
  ['db\'s endpoint neither ready nor serving: ~1', compile([...svc('web', '10.96.0.10', { v6: 'fd00:10:96::10' }), ...svc('api', '10.96.0.11', { nodePort: 30080 }), ...svc('db', '10.96.0.12', { conditions: { ready: false, serving: false, terminating: true } })]), { added: [], changed: ['test/db'], removed: [], live: 3 }],
  ['nothing left: -3', compile([]), { added: [], changed: [], removed: ['test/api', 'test/db', 'test/web'], live: 3 }],
];

/** Today's count: both texts read back (iptables: both families merged). */
function readBack(mode: 'iptables' | 'nftables', live: RoutingGraph, wanted: RoutingGraph): ServiceChanges {
  const read = (graph: RoutingGraph) => mergeModels((mode === 'iptables' ? ([4, 6] as const) : ([4] as const)).map((family) => readRuleSet(emit(graph, { mode, family }), mode)));
  return serviceChanges(read(live), read(wanted));
}

const iptablesRecords = (graph: RoutingGraph) => ([4, 6] as const).map((family) => serviceRecord(graph, 'iptables', [family]));
const nftRecords = (graph: RoutingGraph, layout = 'kube-proxy') => [serviceRecord(graph, `nftables/${layout}`, [4, 6])];

describe('Service records count what reading the rules back counts', () => {
  it.each(CASES)('%s', (_name, wanted, expected) => {
    expect(recordChanges(iptablesRecords(BASE), iptablesRecords(wanted))).toEqual(expected);
    expect(readBack('iptables', BASE, wanted)).toEqual(expected);
    expect(recordChanges(nftRecords(BASE), nftRecords(wanted))).toEqual(expected);
    expect(readBack('nftables', BASE, wanted)).toEqual(expected);
    // The compact layout's rules name Services only in part; its records name every one.
    expect(recordChanges(nftRecords(BASE, 'compact'), nftRecords(wanted, 'compact'))).toEqual(expected);
  });

  it('the same graph: nothing changes, every Service live', () => {
    expect(recordChanges(iptablesRecords(BASE), iptablesRecords(BASE))).toEqual({ added: [], changed: [], removed: [], live: 3 });
  });

  it('an input that would remove every Service is still refused', () => {
    const changes = recordChanges(nftRecords(BASE), nftRecords(compile([])))!;
    expect(refusal(changes, { objects: 1, servicePorts: 0, skipped: [] })).toMatch(/would remove all 3 Services/);
  });

  it('a flag of one endpoint among many changes the Service (lists indexed past 16 endpoints)', () => {
    const many = Array.from({ length: 20 }, (_, i) => pod(`p${i}`, `10.244.2.${i + 1}`));
    const base = serviceRecord(compile(svc('big', '10.96.0.40', { endpoints: many })), 'iptables', [4]);
    const [first, ...rest] = many;
    const oneTerminating = compile([service('big', { clusterIPs: ['10.96.0.40'], ports: [{ port: 80 }] }), ...slices('big', [{ port: 80 }], [{ pod: first!, ready: false, serving: true, terminating: true }, ...rest.map((p) => ({ pod: p }))])]);
    expect(serviceRecord(oneTerminating, 'iptables', [4]).services['test/big']).not.toBe(base.services['test/big']);
    expect(serviceRecord(compile(svc('big', '10.96.0.40', { endpoints: many })), 'iptables', [4])).toEqual(base);
  });

  it('an endpoint in a chosen list but not in the route\'s own list is written out, flags and all', () => {
    const graph = compile(svc('web', '10.96.0.10', { endpoints: [A, B] }));
    const withCluster = (flip: boolean): RoutingGraph => ({
      ...graph,
      servicePorts: graph.servicePorts.map((route) => ({ ...route, clusterEndpoints: route.clusterEndpoints.map((e) => ({ ...e, terminating: flip ? !e.terminating : e.terminating })) })),
    });
    const record = (g: RoutingGraph) => serviceRecord(g, 'iptables', [4]).services['test/web'];
    expect(record(withCluster(false))).toBe(record(withCluster(false)));
    expect(record(withCluster(true))).not.toBe(record(withCluster(false)));
  });

  it('the same input in either order gives the same record', () => {
    const objects = [...svc('web', '10.96.0.10'), ...svc('api', '10.96.0.11', { endpoints: [A, B] })];
    expect(serviceRecord(compile([...objects].reverse()), 'iptables', [4])).toEqual(serviceRecord(compile(objects), 'iptables', [4]));
  });

  it('cannot say when anything node-wide changed (then apply reads the rules back)', () => {
    const otherNode = compile([...svc('web', '10.96.0.10', { v6: 'fd00:10:96::10' }), ...svc('api', '10.96.0.11', { nodePort: 30080 }), ...svc('db', '10.96.0.12')], { nodeIPs: ['192.0.2.11'] });
    expect(recordChanges(iptablesRecords(BASE), iptablesRecords(otherNode))).toBeNull();
    expect(recordChanges(nftRecords(BASE), nftRecords(BASE, 'compact'))).toBeNull();
    expect(recordChanges(iptablesRecords(BASE), iptablesRecords(BASE).slice(0, 1))).toBeNull();
  });
});

describe('records on disk: next to the kept text, gone with it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kpc-record-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const record: ServiceRecord = serviceRecord(BASE, 'iptables', [4]);

  it('read back as written; missing or unreadable is null', async () => {
    const hash = await keepLoaded(dir, 'iptables-4', 'text one\n');
    expect(await readServiceRecord(dir, 'iptables-4', hash)).toBeNull();
    await keepServiceRecord(dir, 'iptables-4', hash, record);
    expect(await readServiceRecord(dir, 'iptables-4', hash)).toEqual(record);
    writeFileSync(loadedPath(dir, 'iptables-4', hash) + RECORD_SUFFIX, '{"version":1,"node":"x","serv');
    expect(await readServiceRecord(dir, 'iptables-4', hash)).toBeNull();
    // An older kpc's record: its hashes were of other facts, so it cannot say.
    writeFileSync(loadedPath(dir, 'iptables-4', hash) + RECORD_SUFFIX, '{"version":1,"node":"x","services":{}}');
    expect(await readServiceRecord(dir, 'iptables-4', hash)).toBeNull();
    writeFileSync(loadedPath(dir, 'iptables-4', hash) + RECORD_SUFFIX, '{"version":2,"node":"x","services":{"a/b":3}}');
    expect(await readServiceRecord(dir, 'iptables-4', hash)).toBeNull();
  });

  it('a kept text reads back only as written (its hash checked on the bytes read)', async () => {
    const text = 'add rule ip kube-proxy c comment "naïve ünïcode"\n';
    const hash = await keepLoaded(dir, 'nftables', text);
    expect(await readLoaded(dir, 'nftables', hash)).toBe(text);
    writeFileSync(loadedPath(dir, 'nftables', hash), text.replace('naïve', 'naive'));
    expect(await readLoaded(dir, 'nftables', hash)).toBeNull();
    await forgetOthers(dir, 'nftables', null);
  });

  it('forgetOthers keeps the held text with its record and drops every other text and record of that key', async () => {
    const one = await keepLoaded(dir, 'iptables-4', 'one\n');
    const two = await keepLoaded(dir, 'iptables-4', 'two\n');
    const six = await keepLoaded(dir, 'iptables-6', 'six\n');
    for (const [key, hash] of [['iptables-4', one], ['iptables-4', two], ['iptables-6', six]] as const) await keepServiceRecord(dir, key, hash, record);
    await forgetOthers(dir, 'iptables-4', two);
    expect(readdirSync(dir).sort()).toEqual([`loaded-iptables-4-${two}`, `loaded-iptables-4-${two}${RECORD_SUFFIX}`, `loaded-iptables-6-${six}`, `loaded-iptables-6-${six}${RECORD_SUFFIX}`]);
  });
});
