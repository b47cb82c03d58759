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

export interface ServiceRecord {
  version: 1;
  /** Hash of what every Service's rules depend on besides its own routes. */
  node: string;
  /** `namespace/name` -> hash of its routes (in this text's families). */
  services: Record<string, string>;
}

const hash = (text: string) => createHash('sha1').update(text).digest('base64');

/**
 * What of an endpoint reaches the rules. Its node, zone and hints are
 * inputs to decisions already made in the route's endpoint lists.
 */
const endpointFacts = (e: Endpoint) => `${e.ip} ${e.port} ${e.hostPort} ${+e.ready}${+e.serving}${+e.terminating}${+e.isLocal}`;

/**
 * A route as far as iptables and nftables rules can show it: without
 * `notes` (explanations) and the IPVS scheduler, which neither mode writes.
 * Written by hand, not JSON.stringify'd whole: at 10,000 service ports this
 * runs on every apply (a fifth of a second the other way).
 */
function routeFacts(route: ServicePortRoute): string {
  const { notes: _notes, ipvsScheduler: _scheduler, endpoints, clusterEndpoints, localEndpoints, reachableEndpoints, ...rest } = route;
  // The lists mostly hold the same endpoint objects: each written once.
  const written = new Map<Endpoint, string>();
  const facts = (e: Endpoint) => {
    let text = written.get(e);
    if (text === undefined) written.set(e, (text = endpointFacts(e)));
    return text;
  };
  const lists = [endpoints, clusterEndpoints, localEndpoints, reachableEndpoints].map((list) => list.map(facts).join(','));
  return `${JSON.stringify(rest)}\n${lists.join('\n')}`;
}

/** What a record's `format` says of the text it describes: the mode, and the nftables layout. */
export function recordFormat(mode: 'iptables' | 'nftables', layout: string = 'kube-proxy'): string {
  return mode === 'iptables' ? 'iptables' : `nftables/${layout}`;
}

/** The record of one rule text: `format` names the mode and layout it was emitted in, `families` those it holds. */
export function serviceRecord(graph: RoutingGraph, format: string, families: IPFamily[]): ServiceRecord {
  const routes = new Map<string, string[]>();
  for (const route of graph.servicePorts) {
    if (!families.includes(route.family)) continue;
    const key = `${route.namespace}/${route.name}`;
    let list = routes.get(key);
    if (!list) routes.set(key, (list = []));
    list.push(routeFacts(route));
  }
  const services: Record<string, string> = {};
  for (const key of [...routes.keys()].sort()) services[key] = hash(routes.get(key)!.join('\n'));
  return { version: 1, node: hash(JSON.stringify([format, [...families].sort(), graph.node])), services };
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
    if (record?.version !== 1 || typeof record.node !== 'string' || typeof record.services !== 'object' || record.services === null) return null;
    if (Object.values(record.services).some((h) => typeof h !== 'string')) return null;
    return record;
  } catch {
    return null;
  }
}
