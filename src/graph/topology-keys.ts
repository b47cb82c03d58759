import type { Endpoint } from './types.js';

const HOSTNAME_KEY = 'kubernetes.io/hostname';

/**
 * Legacy spec.topologyKeys (Kubernetes 1.17 to 1.21): the first key under
 * which some endpoint shares this node's label value wins; "*" matches any
 * endpoint. No match at all leaves the Service without endpoints.
 */
export function filterByTopologyKeys(
  endpoints: Endpoint[],
  keys: string[],
  node: { name: string; labels: Record<string, string> },
  nodeLabels: Map<string, Record<string, string>>,
): { endpoints: Endpoint[]; note: string } {
  for (const key of keys) {
    if (key === '*') return { endpoints, note: 'topologyKeys: matched "*" (any endpoint)' };
    const mine = key === HOSTNAME_KEY ? (node.labels[key] ?? node.name) : node.labels[key];
    if (mine === undefined) continue;
    const matching = endpoints.filter((ep) => {
      if (ep.nodeName === null) return false;
      const theirs = key === HOSTNAME_KEY ? (nodeLabels.get(ep.nodeName)?.[key] ?? ep.nodeName) : nodeLabels.get(ep.nodeName)?.[key];
      return theirs === mine;
    });
    if (matching.length > 0) return { endpoints: matching, note: `topologyKeys: matched ${key}=${mine}` };
  }
  return { endpoints: [], note: 'topologyKeys: no key matched any endpoint, so the service has no endpoints here' };
}
