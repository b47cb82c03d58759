import { diffModels } from '../diff/index.js';
import { virtualServers } from '../emit/ipvs/virtual-servers.js';
import type { RoutingGraph, SkippedService } from '../graph/types.js';
import { readHostPort } from '../read/addresses.js';
import { readRuleSet } from '../read/index.js';
import type { Frontend, RuleSetModel } from '../read/model.js';
import { ipvsadmText, ownedLiveServices, type IpvsState } from './ipvs.js';

/**
 * What an apply does to the host's Services, counted per Service
 * (`namespace/name`), not per rule or frontend: the line a user reads before
 * anything is removed (`+1 ~2 -3 services`), and what the guard against an
 * input that would wipe them decides on. Pure: two read-back models in (live
 * and wanted), the differ's changes reused for "changed".
 */
export interface ServiceChanges {
  /** Only in the new rules. */
  added: string[];
  /** In both, with any difference the differ reports (a frontend, endpoint, share, policy...). */
  changed: string[];
  /** Only in the live rules: these lose their rules. */
  removed: string[];
  /** Services kpc (or kube-proxy) has on the host now. */
  live: number;
}

/** Names a frontend (by its model key) where its rules name no Service (IPVS): null when unknown. */
export type NameOf = (frontendKey: string) => string | null;

/**
 * The Service a frontend belongs to: its service port's `ns/name` where the
 * rules name it, else what `nameOf` knows, else the frontend itself (IPVS
 * rules name no Service: an unknown virtual server counts as one).
 */
function serviceOf(key: string, frontend: Frontend, nameOf: NameOf): string {
  if (frontend.service) return frontend.service.split(':')[0]!;
  return nameOf(key) ?? `frontend ${key}`;
}

function servicesIn(model: RuleSetModel, nameOf: NameOf): Map<string, string> {
  const byFrontend = new Map<string, string>();
  for (const [key, frontend] of model.frontends) byFrontend.set(key, serviceOf(key, frontend, nameOf));
  return byFrontend;
}

export function serviceChanges(live: RuleSetModel, wanted: RuleSetModel, nameOf: NameOf = () => null): ServiceChanges {
  const before = servicesIn(live, nameOf);
  const after = servicesIn(wanted, nameOf);
  const had = new Set(before.values());
  const will = new Set(after.values());
  const touched = new Set<string>();
  for (const change of diffModels(live, wanted).changes) {
    const name = after.get(change.frontend) ?? before.get(change.frontend);
    if (name) touched.add(name);
  }
  const sorted = (names: Iterable<string>) => [...names].sort();
  return {
    added: sorted([...will].filter((s) => !had.has(s))),
    changed: sorted([...touched].filter((s) => had.has(s) && will.has(s))),
    removed: sorted([...had].filter((s) => !will.has(s))),
    live: had.size,
  };
}

/**
 * IPVS rules name no Service: the graph names each virtual server it makes
 * (`ns/name`), keyed as the IPVS reader keys frontends. Apply keeps these in
 * its record, so the next apply can still name the ones it removes.
 */
export function ipvsFrontendNames(graph: RoutingGraph): Record<string, string> {
  const names: Record<string, string> = {};
  for (const route of graph.servicePorts) {
    for (const server of virtualServers(route, graph)) names[`IPv${route.family} ${route.protocol.toLowerCase()} ${readHostPort(server.address)}`] = `${route.namespace}/${route.name}`;
  }
  return names;
}

/**
 * IPVS mode's count: only kpc's own live virtual services (the planner's
 * ownership: the others it never touches), named by `names` (the graph's,
 * over the record's) where the rules cannot say.
 */
export function ipvsServiceChanges(live: IpvsState, wanted: IpvsState, recorded: string[], names: Record<string, string>): ServiceChanges {
  const before = readRuleSet(ipvsadmText(ownedLiveServices(live, wanted, recorded)), 'ipvs');
  const after = readRuleSet(ipvsadmText(wanted.services.values()), 'ipvs');
  return serviceChanges(before, after, (key) => names[key] ?? null);
}

/** How many removed Services are named on the summary line; the rest are counted. */
const NAMED = 10;

/** `+1 ~2 -3 services (removed: a/x, b/y, c/z)`: what an apply adds, changes and removes. */
export function formatServiceChanges(changes: ServiceChanges): string {
  const { added, changed, removed } = changes;
  let line = `+${added.length} ~${changed.length} -${removed.length} services`;
  if (removed.length) {
    const more = removed.length > NAMED ? `, and ${removed.length - NAMED} more` : '';
    line += ` (removed: ${removed.slice(0, NAMED).join(', ')}${more})`;
  }
  return line;
}

/** What apply knows of its input besides the graph. */
export interface InputFacts {
  /** Objects in the input (a List's items one each); null when the caller does not say. */
  objects: number | null;
  /** Service ports the graph compiled. */
  servicePorts: number;
  /** Services the graph skipped, with why. */
  skipped: SkippedService[];
}

/**
 * Why apply must not go ahead without --allow-empty, or null when it may:
 * an input with no objects at all (kubectl apply refuses one too: an empty
 * file, a dump cut short), and an input after which none of the Services
 * the host has from kpc would be left. Any other removal goes ahead, said
 * beforehand by formatServiceChanges.
 */
export function refusal(changes: ServiceChanges | null, input: InputFacts): string | null {
  const override = 'nothing was changed; if that is what you want, run again with --allow-empty';
  if (input.objects === 0) {
    const removed = changes?.removed.length ?? 0;
    const removes = removed ? `; applying it would remove all ${removed} Services kpc has on this host` : '';
    return `refusing to apply: the input has no objects (an empty file, or a dump cut short?)${removes}; ${override}`;
  }
  // No change at all (null) removes nothing.
  if (!changes || changes.live === 0 || changes.removed.length < changes.live) return null;
  return `refusing to apply: ${whyNone(changes, input)}, so applying it would remove all ${changes.live} Services kpc has on this host; ${override}`;
}

function whyNone(changes: ServiceChanges, input: InputFacts): string {
  if (input.servicePorts > 0 || changes.added.length > 0) return `none of the host's ${changes.live} Services is in the input`;
  if (!input.skipped.length) return 'the input has no Service';
  const reasons = new Map<string, number>();
  for (const s of input.skipped) {
    const reason = shortReason(s.reason);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const list = [...reasons].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([reason, n]) => `${n} ${reason}`);
  const n = input.skipped.length;
  return `the input compiles to no Service: ${n} Service${n === 1 ? '' : 's'} skipped (${list.join(', ')})`;
}

/** The graph's skip reason cut to its head: `no clusterIP allocated yet (...)` → `with no cluster IP allocated`. */
function shortReason(reason: string): string {
  if (/^no clusterIP/.test(reason)) return 'with no cluster IP allocated';
  if (/^headless/.test(reason)) return 'headless';
  if (/ExternalName/.test(reason)) return 'of type ExternalName';
  return reason.split(/[:(]/)[0]!.trim();
}
