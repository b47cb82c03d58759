import type { Inventory, Service } from '../model/k8s.js';
import { canonicalIP, ipFamily } from '../net/ip.js';
import type { ServiceEndpoints } from '../resolve/index.js';
import type { EndpointSubset } from '../resolve/types.js';
import { endpointLabel, naturalCompare, reverseName, serviceName, srvWeight } from './names.js';
import type { DnsOptions, DnsRecord, DnsZone } from './records.js';

/**
 * The records CoreDNS's kubernetes plugin serves, as its zone transfer lists
 * them (plugin/kubernetes/xfr.go), plus the PTR records its reverse lookup
 * answers (reverse.go):
 * - a Service with a cluster IP: A/AAAA for each cluster IP, an SRV record per
 *   port at the Service's name and, for named ports, at _port._proto.name;
 * - a headless Service: A/AAAA per ready endpoint address at the Service's
 *   name and at the endpoint's own name (its hostname, else its dashed
 *   address), and SRV records to those names for named ports;
 * - an ExternalName Service: a CNAME (none when externalName is an address);
 * - PTR for every cluster IP, and for ready endpoint addresses to the
 *   endpoint's name under each Service that lists it.
 */
export function buildDnsZone(inventory: Inventory, resolved: Map<Service, ServiceEndpoints>, options: DnsOptions): DnsZone {
  const zone: DnsZone = { options, services: [], reverse: [] };
  const clusterIPs = new Set<string>();
  for (const service of inventory.services) {
    const entry = serviceRecords(service, resolved.get(service)!, options);
    zone.services.push(entry);
    for (const ip of clusterIPsOf(service)) {
      clusterIPs.add(ip);
      zone.reverse.push({ name: reverseName(ip), type: 'PTR', data: serviceName(service.metadata.name, service.metadata.namespace!, options.clusterDomain), service: entry.service });
    }
  }
  // An address that is a cluster IP answers with the Service only (reverse.go checks Services first).
  for (const service of inventory.services) {
    if (typeOf(service) === 'ExternalName') continue;
    for (const address of readyAddresses(resolved.get(service)!.subsets)) {
      if (clusterIPs.has(address.ip)) continue;
      const name = `${endpointLabel(address.ip, address.hostname)}.${serviceName(service.metadata.name, service.metadata.namespace!, options.clusterDomain)}`;
      zone.reverse.push({ name: reverseName(address.ip), type: 'PTR', data: name, service: keyOf(service) });
    }
  }
  zone.reverse = unique(zone.reverse).sort(byAddress);
  return zone;
}

function serviceRecords(service: Service, endpoints: ServiceEndpoints, options: DnsOptions): DnsZone['services'][number] {
  const type = typeOf(service);
  const base = { service: keyOf(service), type: service.spec.clusterIP === 'None' ? 'headless' : type };
  if (type === 'ExternalName') return { ...base, ...externalName(service, options) };
  if (service.spec.clusterIP === 'None' || service.spec.clusterIPs?.[0] === 'None') return { ...base, records: headless(service, endpoints.subsets, options), note: null };
  const ips = clusterIPsOf(service);
  if (!ips.length) return { ...base, records: [], note: 'no cluster IP allocated yet: nothing is served until the API server assigns one' };
  return { ...base, records: withClusterIP(service, ips, options), note: null };
}

function withClusterIP(service: Service, ips: string[], options: DnsOptions): DnsRecord[] {
  return sorted(service, options, clusterIPRecords(service, ips, options));
}

function sorted(service: Service, options: DnsOptions, records: DnsRecord[]): DnsRecord[] {
  return unique(records).sort(byName(serviceName(service.metadata.name, service.metadata.namespace!, options.clusterDomain)));
}

function clusterIPRecords(service: Service, ips: string[], options: DnsOptions): DnsRecord[] {
  const name = serviceName(service.metadata.name, service.metadata.namespace!, options.clusterDomain);
  const key = keyOf(service);
  const records: DnsRecord[] = ips.map((ip) => ({ name, type: ipFamily(ip) === 4 ? 'A' : 'AAAA', data: ip, service: key }));
  for (const port of service.spec.ports ?? []) {
    // Every port at the bare name (for peer-finder); named ports also under _port._proto (the DNS spec).
    records.push({ name, type: 'SRV', data: `0 100 ${port.port} ${name}`, service: key });
    if (port.name) records.push({ name: `_${port.name}._${(port.protocol ?? 'TCP').toLowerCase()}.${name}`, type: 'SRV', data: `0 100 ${port.port} ${name}`, service: key });
  }
  return records;
}

function headless(service: Service, subsets: EndpointSubset[], options: DnsOptions): DnsRecord[] {
  const name = serviceName(service.metadata.name, service.metadata.namespace!, options.clusterDomain);
  const key = keyOf(service);
  const records: DnsRecord[] = [];
  for (const subset of subsets) {
    const ready = subset.addresses.filter((a) => a.ready);
    const weight = srvWeight(ready.length);
    for (const address of ready) {
      const type = address.family === 4 ? 'A' : 'AAAA';
      const host = `${endpointLabel(address.ip, address.hostname)}.${name}`;
      records.push({ name, type, data: address.ip, service: key }, { name: host, type, data: address.ip, service: key });
      for (const port of subset.ports.filter((p) => p.name)) {
        records.push({ name: `_${port.name}._${port.protocol.toLowerCase()}.${name}`, type: 'SRV', data: `0 ${weight} ${port.port} ${host}`, service: key });
      }
    }
  }
  return sorted(service, options, records);
}

function externalName(service: Service, options: DnsOptions): { records: DnsRecord[]; note: string | null } {
  const target = service.spec.externalName ?? '';
  if (!target || ipFamily(target)) return { records: [], note: `externalName ${JSON.stringify(target)} is not a host name: CoreDNS serves no CNAME for it` };
  const name = serviceName(service.metadata.name, service.metadata.namespace!, options.clusterDomain);
  return { records: [{ name, type: 'CNAME', data: target.endsWith('.') ? target : `${target}.`, service: keyOf(service) }], note: null };
}

function readyAddresses(subsets: EndpointSubset[]) {
  return subsets.flatMap((s) => s.addresses.filter((a) => a.ready));
}

function clusterIPsOf(service: Service): string[] {
  if (typeOf(service) === 'ExternalName') return [];
  const ips = service.spec.clusterIPs?.length ? service.spec.clusterIPs : service.spec.clusterIP ? [service.spec.clusterIP] : [];
  return ips.filter((ip) => ip !== 'None' && ipFamily(ip)).map(canonicalIP);
}

function typeOf(service: Service): string {
  return service.spec.type ?? 'ClusterIP';
}

function keyOf(service: Service): string {
  return `${service.metadata.namespace}/${service.metadata.name}`;
}

function unique(records: DnsRecord[]): DnsRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = `${r.name} ${r.type} ${r.data}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** IPv4 before IPv6, then by address, then by name: stable whatever the input order. */
function byAddress(a: DnsRecord, b: DnsRecord): number {
  const [x, y] = [`${reverseKey(a.name)} ${a.data}`, `${reverseKey(b.name)} ${b.data}`];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `10.0.96.10.in-addr.arpa.` → `4 010.096.000.010`; IPv6 nibbles → `6 fd00...`: fixed width, so text order is address order. */
function reverseKey(name: string): string {
  const labels = name.split('.').filter(Boolean).slice(0, -2).reverse();
  return name.endsWith('.in-addr.arpa.') ? `4 ${labels.map((l) => l.padStart(3, '0')).join('.')}` : `6 ${labels.join('')}`;
}

/**
 * A Service's records: those at its own name first (addresses, CNAME, SRV),
 * then the _port._proto SRV names, then its endpoints' names; numbers inside
 * names and data compare as numbers.
 */
function byName(service: string) {
  const rank = (r: DnsRecord) => (r.name === service ? 0 : r.name.startsWith('_') ? 1 : 2);
  const typeRank = (r: DnsRecord) => ['A', 'AAAA', 'CNAME', 'SRV', 'PTR'].indexOf(r.type);
  return (a: DnsRecord, b: DnsRecord) => rank(a) - rank(b) || naturalCompare(a.name, b.name) || typeRank(a) - typeRank(b) || naturalCompare(a.data, b.data);
}
