import type { DnsRecord, DnsZone } from './records.js';

/** The records in zone-file form: one record a line, tab-separated, grouped by Service, then the reverse zones. */
export function formatZone(zone: DnsZone): string {
  const { clusterDomain, ttl } = zone.options;
  const lines = [
    `; DNS records CoreDNS's kubernetes plugin serves for this input (zone ${clusterDomain}.), written by kpc.`,
    '; Forward records as its zone transfer lists them; then PTR records, which it answers when it also serves',
    '; in-addr.arpa and ip6.arpa (the default Corefile does). SOA and NS, which name the DNS server itself, are left out.',
    `$TTL ${ttl}`,
  ];
  for (const entry of zone.services) {
    lines.push('', `; ${entry.service} (${entry.type})${entry.note ? `: ${entry.note}` : entry.records.length ? '' : ': no records (no ready endpoint)'}`);
    lines.push(...entry.records.map((r) => line(r, ttl)));
  }
  if (zone.reverse.length) lines.push('', '; reverse lookups', ...zone.reverse.map((r) => line(r, ttl)));
  return `${lines.join('\n')}\n`;
}

function line(record: DnsRecord, ttl: number): string {
  return `${record.name}\t${ttl}\tIN\t${record.type}\t${record.data}`;
}
