import type { EndpointSource, EndpointSubset, ServiceEndpoints } from './types.js';

/**
 * A Service's endpoints whose `subsets` (the DNS view) are built when first
 * read: generating rules never reads them, and building them for every
 * Service was a third of resolving endpoints from 100,000 Pods. `build` must
 * read only objects that no later step changes (the validated inventory).
 */
export function withLazySubsets(endpoints: Omit<ServiceEndpoints, 'subsets'>, build: () => EndpointSubset[]): ServiceEndpoints {
  return new LazySubsets(endpoints.source, endpoints.byPort, build);
}

/** A class rather than an object literal with a getter: V8 makes these as fast as plain objects. */
class LazySubsets implements ServiceEndpoints {
  private built: EndpointSubset[] | undefined;

  constructor(
    readonly source: EndpointSource,
    readonly byPort: ServiceEndpoints['byPort'],
    private readonly build: () => EndpointSubset[],
  ) {}

  get subsets(): EndpointSubset[] {
    return (this.built ??= this.build());
  }
}
