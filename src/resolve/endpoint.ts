import type { Endpoint, IPFamily } from '../graph/types.js';
import { canonicalIP, joinHostPort } from '../net/ip.js';
import type { EndpointFacts, EndpointSource, ServiceEndpoints } from './types.js';

/**
 * Applies the EndpointSlice condition defaults: a missing `ready` counts as
 * ready, a missing `serving` follows `ready`, a missing `terminating` is false.
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
    zoneHints: [...facts.zoneHints].sort(),
    nodeHints: [...facts.nodeHints].sort(),
  };
}

/**
 * Gathers endpoints per service port and family. The same ip:port is kept
 * once; a ready copy replaces a not-ready one, as kube-proxy's cache does when
 * two slices list one endpoint.
 */
export class EndpointCollector {
  private readonly byPort: ServiceEndpoints['byPort'] = new Map();
  private readonly positions = new Map<string, number>();

  add(key: string, family: IPFamily, endpoint: Endpoint): void {
    let lists = this.byPort.get(key);
    if (!lists) this.byPort.set(key, (lists = { 4: [], 6: [] }));
    const list = lists[family];
    const id = `${key}|${endpoint.hostPort}`;
    const at = this.positions.get(id);
    if (at === undefined) {
      this.positions.set(id, list.length);
      list.push(endpoint);
    } else if (endpoint.ready && !list[at]!.ready) {
      list[at] = endpoint;
    }
  }

  /** kube-proxy orders endpoints by their `ip:port` text; so do we, so chains match line by line. */
  finish(source: EndpointSource): Omit<ServiceEndpoints, 'subsets'> {
    const byText = (a: Endpoint, b: Endpoint) => (a.hostPort < b.hostPort ? -1 : a.hostPort > b.hostPort ? 1 : 0);
    for (const lists of this.byPort.values()) {
      lists[4].sort(byText);
      lists[6].sort(byText);
    }
    return { source, byPort: this.byPort };
  }
}
