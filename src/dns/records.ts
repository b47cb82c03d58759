/** A DNS record as a zone file writes it; names are absolute (end with a dot). */
export interface DnsRecord {
  name: string;
  type: 'A' | 'AAAA' | 'CNAME' | 'SRV' | 'PTR';
  data: string;
  /** Which Service it is served for (`ns/name`), for grouping and comments. */
  service: string;
}

export interface DnsOptions {
  /** The cluster's DNS domain, without a trailing dot: `cluster.local`. */
  clusterDomain: string;
  ttl: number;
}

export interface DnsZone {
  options: DnsOptions;
  /** One entry per Service, in namespace/name order: its records and what kind of Service it is. */
  services: { service: string; type: string; records: DnsRecord[]; note: string | null }[];
  /** PTR records for cluster IPs and endpoint addresses, in address order. */
  reverse: DnsRecord[];
}
