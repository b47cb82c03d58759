import type { Endpoint } from '../graph/types.js';

/** Where a Service's endpoints came from: the first of these sources that has any. */
export type EndpointSource = 'EndpointSlice' | 'Endpoints' | 'Pods' | 'none';

/** Endpoints of one Service, keyed by `portName/PROTOCOL`, then by IP family. */
export interface ServiceEndpoints {
  source: EndpointSource;
  byPort: Map<string, { 4: Endpoint[]; 6: Endpoint[] }>;
}

export function portKey(portName: string | undefined, protocol: string | undefined): string {
  return `${portName ?? ''}/${protocol ?? 'TCP'}`;
}

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
