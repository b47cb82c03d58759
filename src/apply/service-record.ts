import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Endpoint, IPFamily, RoutingGraph, ServicePortRoute } from '../graph/types.js';
import { loadedPath, RECORD_SUFFIX } from './generation.js';
import type { ServiceChanges } from './services.js';

/**
 * The incremental path's Service count without reading rules back.
 *
 * Reading both whole texts into src/read's model only to print
 * `+N ~M -K services` cost about two seconds at 10,000 service ports, more
 * than everything else the incremental apply does. So next to each kept
 * text (generation.ts, same name plus RECORD_SUFFIX, written before the
 * commit, forgotten with the text) kpc keeps a small record computed from
 * the graph the text was emitted from: per Service (`namespace/name`) a hash
 * of its routes, and one hash of everything node-wide. Comparing the record
 * of the text the host holds with the wanted graph's gives the same three
 * lists the read-back gives, in milliseconds.
 *
 * When the records cannot say (one is missing or unreadable, or anything
 * node-wide changed: addresses, CIDRs, flags, the layout, which touch rules
 * of every Service), the caller reads the texts back as before.
 */

/** 2 since the facts below were written more briefly; a record of another version is not read (the Services are then counted by reading back). */
const RECORD_VERSION = 2;

export interface ServiceRecord {
  version: typeof RECORD_VERSION;
  /** Hash of what every Service's rules depend on besides its own routes. */
  node: string;
  /** `namespace/name` -> hash of its routes (in this text's families). */
  services: Record<string, string>;
}

const hash = (text: string) => createHash('sha1').update(text).digest('base64');

/**
 * What of an endpoint reaches the rules: its address and port (hostPort
 * holds both) and its four flags. Its node, zone and hints are inputs to
 * decisions already made in the route's endpoint lists.
 */
const endpointFacts = (e: Endpoint) => `${e.hostPort}/${+e.ready | (+e.serving << 1) | (+e.terminating << 2) | (+e.isLocal << 3)},`;

/** Past this many endpoints a list's members are found by a Map, not indexOf. */
const INDEXED = 16;

/**
 * A chosen list as positions in `all` where its endpoints are members of
 * it (they nearly always are: the lists are filtered from it), written out
 * where not; `=` for `all` itself.
 */
function listFacts(list: Endpoint[], all: Endpoint[], index: Map<Endpoint, number> | null): string {
  if (list === all) return '=';
  let out = '';
  for (const e of list) {
    const at = index ? (index.get(e) ?? -1) : all.indexOf(e);
    out += at < 0 ? endpointFacts(e) : `${at},`;
  }
  return out;
}

/**
 * A route as far as iptables and nftables rules can show it: without
 * `notes` (explanations) and the IPVS scheduler, which neither mode writes.
 * Written by hand, not JSON.stringify'd whole: at 10,000 service ports this
 * runs on every apply, before the commit (writing each endpoint once, not
 * once per list, cut it from 240 to 175 ms).
 */
function routeFacts(route: ServicePortRoute): string {
  const { notes: _notes, ipvsScheduler: _scheduler, endpoints, clusterEndpoints, localEndpoints, reachableEndpoints, ...rest } = route;
  let out = `${JSON.stringify(rest)}\n`;
  for (const e of endpoints) out += endpointFacts(e);
  const index = endpoints.length > INDEXED ? new Map(endpoints.map((e, i) => [e, i])) : null;
  return `${out}\n${listFacts(clusterEndpoints, endpoints, index)}\n${listFacts(localEndpoints, endpoints, index)}\n${listFacts(reachableEndpoints, endpoints, index)}`;
}

/** What a record's `format` says of the text it describes: the mode, and the nftables layout. */
export function recordFormat(mode: 'iptables' | 'nftables', layout: string = 'kube-proxy'): string {
  return mode === 'iptables' ? 'iptables' : `nftables/${layout}`;
}

/** The record of one rule text: `format` names the mode and layout it was emitted in, `families` those it holds. */
export function serviceRecord(graph: RoutingGraph, format: string, families: IPFamily[]): ServiceRecord {
  const routes = new Map<string, string>();
  for (const route of graph.servicePorts) {
    if (!families.includes(route.family)) continue;
    const key = `${route.namespace}/${route.name}`;
    const before = routes.get(key);
    const facts = routeFacts(route);
    routes.set(key, before === undefined ? facts : `${before}\n${facts}`);
  }
  const services: Record<string, string> = {};
  for (const key of [...routes.keys()].sort()) services[key] = hash(routes.get(key)!);
  return { version: RECORD_VERSION, node: hash(JSON.stringify([format, [...families].sort(), graph.node])), services };
}

/**
 * Services added, changed and removed from the records the host holds to
 * the wanted ones (one per rule text, in the same order: the families of
 * iptables mode; a Service in both counts once). null when they cannot say.
 */
export function recordChanges(live: ServiceRecord[], wanted: ServiceRecord[]): ServiceChanges | null {
  if (live.length !== wanted.length || live.some((record, i) => record.node !== wanted[i]!.node)) return null;
  const combined = (records: ServiceRecord[]) => {
    const out = new Map<string, string>();
    records.forEach((record, i) => {
      for (const [name, h] of Object.entries(record.services)) out.set(name, `${out.get(name) ?? ''}${i}:${h};`);
    });
    return out;
  };
  const before = combined(live);
  const after = combined(wanted);
  const sorted = (names: string[]) => names.sort();
  return {
    added: sorted([...after.keys()].filter((name) => !before.has(name))),
    changed: sorted([...after].filter(([name, h]) => before.has(name) && before.get(name) !== h).map(([name]) => name)),
    removed: sorted([...before.keys()].filter((name) => !after.has(name))),
    live: before.size,
  };
}

/** Keeps the record of a text about to be committed, next to the text (complete before the commit starts). */
export async function keepServiceRecord(dir: string, key: string, textHash: string, record: ServiceRecord): Promise<void> {
  const path = loadedPath(dir, key, textHash) + RECORD_SUFFIX;
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(record), { mode: 0o600 });
  await rename(temporary, path);
}

/** The record kept with this text, or null (none, unreadable, or not one this kpc writes). */
export async function readServiceRecord(dir: string, key: string, textHash: string): Promise<ServiceRecord | null> {
  try {
    const record = JSON.parse(await readFile(loadedPath(dir, key, textHash) + RECORD_SUFFIX, 'utf8')) as ServiceRecord;
    if (record?.version !== RECORD_VERSION || typeof record.node !== 'string' || typeof record.services !== 'object' || record.services === null) return null;
    if (Object.values(record.services).some((h) => typeof h !== 'string')) return null;
    return record;
  } catch {
    return null;
  }
}
