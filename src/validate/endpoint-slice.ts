import type { EndpointSlice } from '../model/k8s.js';
import { ipFamily } from '../net/ip.js';
import { checkMetadata, checkName, checkUnique, nodeName, zoneName } from './common.js';
import { dns1123Label, dns1123Subdomain } from './names.js';
import { quoted, type ObjectReporter } from './reporter.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function validateEndpointSlice(slice: EndpointSlice, r: ObjectReporter): void {
  checkMetadata(slice.metadata, r, dns1123Subdomain);
  if (!slice.metadata.labels?.[SERVICE_NAME_LABEL]) {
    r.warning(['metadata', 'labels'], `has no ${SERVICE_NAME_LABEL} label, so it belongs to no Service and is ignored`);
  }
  const family = slice.addressType === 'IPv4' ? 4 : slice.addressType === 'IPv6' ? 6 : null;
  (slice.endpoints ?? []).forEach((ep, i) => {
    const at = ['endpoints', i];
    ep.addresses.forEach((address, j) => {
      if (family === null) return;
      if (ipFamily(address) !== family) r.error([...at, 'addresses', j], `${quoted(String(address))} is not a valid ${slice.addressType} address`);
    });
    if (ep.hostname !== undefined) checkName(ep.hostname, [...at, 'hostname'], r, dns1123Label, 'hostname');
    if (ep.nodeName !== undefined) checkName(ep.nodeName, [...at, 'nodeName'], r, nodeName, 'node name');
    if (ep.zone !== undefined) checkName(ep.zone, [...at, 'zone'], r, zoneName, 'zone');
    (ep.hints?.forZones ?? []).forEach((z, k) => checkName(z.name, [...at, 'hints', 'forZones', k, 'name'], r, zoneName, 'zone'));
    (ep.hints?.forNodes ?? []).forEach((n, k) => checkName(n.name, [...at, 'hints', 'forNodes', k, 'name'], r, nodeName, 'node name'));
  });
  const ports = slice.ports ?? [];
  ports.forEach((port, i) => {
    if (port.name) checkName(port.name, ['ports', i, 'name'], r, dns1123Label, 'port name');
  });
  checkUnique(ports, (p) => p.name ?? '', (i) => ['ports', i, 'name'], r, 'port name');
}
