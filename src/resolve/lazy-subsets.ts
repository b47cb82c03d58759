import type { EndpointSubset, ServiceEndpoints } from './types.js';

/**
 * A Service's endpoints whose `subsets` (the DNS view) are built when first
 * read: generating rules never reads them, and building them for every
 * Service was a third of resolving endpoints from 100,000 Pods. `build` must
 * read only objects that no later step changes (the validated inventory).
 */
export function withLazySubsets(endpoints: Omit<ServiceEndpoints, 'subsets'>, build: () => EndpointSubset[]): ServiceEndpoints {
  let subsets: EndpointSubset[] | undefined;
  return {
    ...endpoints,
    get subsets(): EndpointSubset[] {
      return (subsets ??= build());
    },
  };
}
