export { buildDnsZone } from './build.js';
export { formatZone } from './zone.js';
export type { DnsOptions, DnsRecord, DnsZone } from './records.js';
