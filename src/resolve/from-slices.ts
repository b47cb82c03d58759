import type { EndpointSlice } from '../model/k8s.js';
import { canonicalIP } from '../net/ip.js';
import { EndpointCollector, makeEndpoint } from './endpoint.js';
import { withLazySubsets } from './lazy-subsets.js';
import { NO_HINTS, portKey, type EndpointSubset, type ServiceEndpoints } from './types.js';

/** Endpoints from a Service's EndpointSlices, as kube-proxy's endpoint-slice cache reads them. */
export function endpointsFromSlices(slices: EndpointSlice[], localNode: string): ServiceEndpoints {
  const collector = new EndpointCollector();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const family = slice.addressType === 'IPv4' ? 4 : 6;
    const endpoints = slice.endpoints ?? [];
    // A slice without endpoints files no port: byPort lists only ports that have some.
    if (endpoints.length === 0) continue;
    for (const port of slice.ports ?? []) {
      // kube-proxy ignores a slice port without a number: it cannot DNAT to it.
      if (port.port === undefined) continue;
      const list = collector.listFor(portKey(port.name, port.protocol), family);
      for (const ep of endpoints) {
        // Only the first address is used, as the API documents and kube-proxy does.
        const facts = {
          ip: ep.addresses[0]!,
          port: port.port,
          nodeName: ep.nodeName ?? null,
          zone: ep.zone ?? null,
          ready: ep.conditions?.ready,
          serving: ep.conditions?.serving,
          terminating: ep.conditions?.terminating,
          zoneHints: ep.hints?.forZones?.length ? ep.hints.forZones.map((z) => z.name) : NO_HINTS,
          nodeHints: ep.hints?.forNodes?.length ? ep.hints.forNodes.map((n) => n.name) : NO_HINTS,
        };
        list.push(makeEndpoint(facts, localNode));
      }
    }
  }
  return withLazySubsets(collector.finish('EndpointSlice'), () => slices.filter((s) => s.addressType !== 'FQDN').map(subsetOf));
}

/** A slice as DNS reads it: every address of every endpoint, ready unless it says not. */
function subsetOf(slice: EndpointSlice): EndpointSubset {
  const family = slice.addressType === 'IPv4' ? 4 : 6;
  return {
    name: `EndpointSlice ${slice.metadata.name}`,
    ports: (slice.ports ?? []).filter((p) => p.port !== undefined).map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port! })),
    addresses: (slice.endpoints ?? []).flatMap((ep) =>
      ep.addresses.map((ip) => ({ ip: canonicalIP(ip), family, ready: ep.conditions?.ready ?? true, hostname: ep.hostname ?? null, nodeName: ep.nodeName ?? null })),
    ),
  };
}
