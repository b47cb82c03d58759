import type { EndpointSlice } from '../model/k8s.js';
import { ipFamily } from '../net/ip.js';
import { checkLegacyIP, checkMetadata, checkName, checkUnique, nodeName, zoneName } from './common.js';
import { legacyIPv4 } from '../net/legacy-ip.js';
import { dns1123Label, dns1123Subdomain, type NameCheck } from './names.js';
import { quoted, type ObjectReporter } from './reporter.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

type SliceEndpoint = NonNullable<EndpointSlice['endpoints']>[number];

export function validateEndpointSlice(slice: EndpointSlice, r: ObjectReporter): void {
  checkMetadata(slice.metadata, r, dns1123Subdomain);
  if (!slice.metadata.labels?.[SERVICE_NAME_LABEL]) {
    r.warning(['metadata', 'labels'], `has no ${SERVICE_NAME_LABEL} label, so it belongs to no Service and is ignored`);
  }
  const family = slice.addressType === 'IPv4' ? 4 : slice.addressType === 'IPv6' ? 6 : null;
  (slice.endpoints ?? []).forEach((ep, i) => checkEndpoint(slice, family, ep, i, r));
  const ports = slice.ports ?? [];
  ports.forEach((port, i) => {
    if (port.name) checkName(port.name, ['ports', i, 'name'], r, dns1123Label, 'port name');
  });
  checkUnique(ports, (p) => p.name ?? '', (i) => ['ports', i, 'name'], r, 'port name');
}

/**
 * One of the slice's endpoints. A large cluster has 100,000 of these, and
 * nearly all are valid: nothing is allocated for a valid one (no field path,
 * no empty list for absent hints), which was most of the cost of checking it.
 */
function checkEndpoint(slice: EndpointSlice, family: 4 | 6 | null, ep: SliceEndpoint, i: number, r: ObjectReporter): void {
  const addresses = listOf(ep.addresses);
  for (let j = 0; family !== null && j < addresses.length; j++) {
    const address = addresses[j]!;
    if (ipFamily(address) === family) continue;
    if (family === 4 && legacyIPv4(address) !== null) checkLegacyIP(addresses, j, ['endpoints', i, 'addresses', j], r);
    else r.error(['endpoints', i, 'addresses', j], `${quoted(String(address))} is not a valid ${slice.addressType} address`);
  }
  if (ep.hostname !== undefined) checkEndpointName(ep.hostname, i, 'hostname', r, dns1123Label, 'hostname');
  if (ep.nodeName !== undefined) checkEndpointName(ep.nodeName, i, 'nodeName', r, nodeName, 'node name');
  if (ep.zone !== undefined) checkEndpointName(ep.zone, i, 'zone', r, zoneName, 'zone');
  if (!ep.hints) return;
  (ep.hints.forZones ?? []).forEach((z, k) => checkName(z.name, ['endpoints', i, 'hints', 'forZones', k, 'name'], r, zoneName, 'zone'));
  (ep.hints.forNodes ?? []).forEach((n, k) => checkName(n.name, ['endpoints', i, 'hints', 'forNodes', k, 'name'], r, nodeName, 'node name'));
}

/** checkName on `endpoints[i].<field>`, whose path is made only when the name is wrong. */
function checkEndpointName(value: string, i: number, field: string, r: ObjectReporter, check: NameCheck, what: string): void {
  if (check(value) !== null) checkName(value, ['endpoints', i, field], r, check, what);
}

/**
 * A list the schema requires. Where the schema found something else, this
 * throws as the forEach it replaces did, giving up the object's remaining
 * checks (see checkMeaningOfMisshapen).
 */
function listOf<T>(value: T[]): T[] {
  if (!Array.isArray(value)) throw new TypeError('not a list');
  return value;
}
