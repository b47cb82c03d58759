import type { Endpoint, IPFamily } from '../graph/types.js';
import { canonicalIP, joinHostPort } from '../net/ip.js';
import type { EndpointFacts, EndpointSource, ServiceEndpoints } from './types.js';

/**
 * Applies the EndpointSlice condition defaults: a missing `ready` counts as
 * ready, a missing `serving` follows `ready`, a missing `terminating` is false.
 * The fact's hint lists become the endpoint's (sorted in place): callers make
 * fresh ones for each endpoint, or pass the shared NO_HINTS, so nothing is
 * copied per endpoint.
 */
export function makeEndpoint(facts: EndpointFacts, localNode: string): Endpoint {
  const ip = canonicalIP(facts.ip);
  const ready = facts.ready ?? true;
  return {
    ip,
    port: facts.port,
    hostPort: joinHostPort(ip, facts.port),
    nodeName: facts.nodeName,
    zone: facts.zone,
    ready,
    serving: facts.serving ?? ready,
    terminating: facts.terminating ?? false,
    isLocal: localNode !== '' && facts.nodeName === localNode,
    zoneHints: sortedInPlace(facts.zoneHints),
    nodeHints: sortedInPlace(facts.nodeHints),
  };
}

function sortedInPlace(list: string[]): string[] {
  return list.length > 1 ? list.sort() : list;
}

/**
 * Gathers endpoints per service port and family. The same ip:port is kept
 * once; a ready copy replaces a not-ready one, as kube-proxy's cache does when
 * two slices list one endpoint.
 */
export class EndpointCollector {
  private readonly byPort: ServiceEndpoints['byPort'] = new Map();

  add(key: string, family: IPFamily, endpoint: Endpoint): void {
    this.listFor(key, family).push(endpoint);
  }

  /** The list `add` would add to, for a caller adding many endpoints of one port and family. */
  listFor(key: string, family: IPFamily): Endpoint[] {
    let lists = this.byPort.get(key);
    if (!lists) this.byPort.set(key, (lists = { 4: [], 6: [] }));
    return lists[family];
  }

  /** kube-proxy orders endpoints by their `ip:port` text; so do we, so chains match line by line. */
  finish(source: EndpointSource): Omit<ServiceEndpoints, 'subsets'> {
    for (const lists of this.byPort.values()) {
      lists[4] = uniqueByText(lists[4]);
      lists[6] = uniqueByText(lists[6]);
    }
    return { source, byPort: this.byPort };
  }
}

/**
 * Sorted by `ip:port`, one endpoint per text. Repeats are rare, so they are
 * found after sorting (the sort is stable: copies stay in the order they were
 * added) rather than by a lookup per endpoint: the first copy is kept unless a
 * later ready one replaces a not-ready one.
 */
function uniqueByText(list: Endpoint[]): Endpoint[] {
  if (list.length < 2) return list;
  list.sort((a, b) => (a.hostPort < b.hostPort ? -1 : a.hostPort > b.hostPort ? 1 : 0));
  let kept = 0;
  for (let i = 1; i < list.length; i++) {
    const endpoint = list[i]!;
    const last = list[kept]!;
    if (endpoint.hostPort !== last.hostPort) list[++kept] = endpoint;
    else if (endpoint.ready && !last.ready) list[kept] = endpoint;
  }
  list.length = kept + 1;
  return list;
}
