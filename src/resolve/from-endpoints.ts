import type { EndpointAddress, Endpoints } from '../model/k8s.js';
import { canonicalIP, ipFamily } from '../net/ip.js';
import { EndpointCollector, makeEndpoint } from './endpoint.js';
import { withLazySubsets } from './lazy-subsets.js';
import { NO_HINTS, portKey, type EndpointSubset, type ServiceEndpoints } from './types.js';

/**
 * Endpoints from a v1 Endpoints object, read as the EndpointSlice mirroring
 * controller would mirror it: `addresses` are ready, `notReadyAddresses` not.
 */
export function endpointsFromEndpoints(endpoints: Endpoints, localNode: string): ServiceEndpoints {
  const collector = new EndpointCollector();
  for (const subset of endpoints.subsets ?? []) {
    const addresses: [EndpointAddress, boolean][] = [
      ...(subset.addresses ?? []).map((a): [EndpointAddress, boolean] => [a, true]),
      ...(subset.notReadyAddresses ?? []).map((a): [EndpointAddress, boolean] => [a, false]),
    ];
    for (const port of subset.ports ?? []) {
      const key = portKey(port.name, port.protocol);
      for (const [address, ready] of addresses) {
        const facts = { ip: address.ip, port: port.port, nodeName: address.nodeName ?? null, zone: null, ready, serving: ready, terminating: false, zoneHints: NO_HINTS, nodeHints: NO_HINTS };
        collector.add(key, ipFamily(address.ip)!, makeEndpoint(facts, localNode));
      }
    }
  }
  return withLazySubsets(collector.finish('Endpoints'), () => (endpoints.subsets ?? []).map(subsetOf));
}

function subsetOf(subset: NonNullable<Endpoints['subsets']>[number], index: number): EndpointSubset {
  const address = (a: EndpointAddress, ready: boolean) => ({ ip: canonicalIP(a.ip), family: ipFamily(a.ip)!, ready, hostname: a.hostname ?? null, nodeName: a.nodeName ?? null });
  return {
    name: `Endpoints subset ${index}`,
    ports: (subset.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port })),
    addresses: [...(subset.addresses ?? []).map((a) => address(a, true)), ...(subset.notReadyAddresses ?? []).map((a) => address(a, false))],
  };
}
