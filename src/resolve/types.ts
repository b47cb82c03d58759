import type { Endpoint, IPFamily, Protocol } from '../graph/types.js';

/** Where a Service's endpoints came from: the first of these sources that has any. */
export type EndpointSource = 'EndpointSlice' | 'Endpoints' | 'Pods' | 'none';

/** Endpoints of one Service, keyed by `portName/PROTOCOL`, then by IP family. */
export interface ServiceEndpoints {
  source: EndpointSource;
  byPort: Map<string, { 4: Endpoint[]; 6: Endpoint[] }>;
  /**
   * The same endpoints as the API groups them (one per EndpointSlice, per
   * Endpoints subset, or per family and port mapping of selected Pods), with
   * every address, its hostname and the group's ports, even when it has no
   * ports. This is what DNS serves for headless Services; proxy rules use byPort.
   */
  subsets: EndpointSubset[];
}

export interface EndpointSubset {
  /** `EndpointSlice NAME`, `Endpoints subset N` or `Pods IPv4 ...`: where it came from. */
  name: string;
  ports: { name: string; protocol: Protocol; port: number }[];
  addresses: SubsetAddress[];
}

export interface SubsetAddress {
  ip: string;
  family: IPFamily;
  ready: boolean;
  /**
   * The endpoint's DNS name within the Service: EndpointSlice `hostname`,
   * Endpoints `hostname`, or a selected Pod's spec.hostname when its
   * spec.subdomain names the Service (as the EndpointSlice controller sets it).
   */
  hostname: string | null;
  nodeName: string | null;
}

export function portKey(portName: string | undefined, protocol: string | undefined): string {
  return `${portName ?? ''}/${protocol ?? 'TCP'}`;
}

/**
 * The hint list of an endpoint without hints, shared (frozen, so a change
 * would throw): nearly every endpoint has none, and two empty lists for each
 * of 100,000 endpoints were 200,000 allocations.
 */
export const NO_HINTS: string[] = Object.freeze([]) as unknown as string[];

/** The conditions as the source stated them, before defaults. */
export interface EndpointFacts {
  ip: string;
  port: number;
  nodeName: string | null;
  zone: string | null;
  ready: boolean | null | undefined;
  serving: boolean | null | undefined;
  terminating: boolean | null | undefined;
  zoneHints: string[];
  nodeHints: string[];
}
