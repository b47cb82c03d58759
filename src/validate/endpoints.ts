import type { EndpointAddress, Endpoints } from '../model/k8s.js';
import { checkIP, checkMetadata, checkName, checkUnique, nodeName } from './common.js';
import { dns1035Label, dns1123Label } from './names.js';
import type { FieldPath, ObjectReporter } from './reporter.js';

export function validateEndpoints(endpoints: Endpoints, r: ObjectReporter): void {
  // Endpoints share their Service's name, which is a DNS-1035 label.
  checkMetadata(endpoints.metadata, r, dns1035Label);
  (endpoints.subsets ?? []).forEach((subset, i) => {
    const at = ['subsets', i];
    (subset.addresses ?? []).forEach((a, j) => checkAddress(a, [...at, 'addresses', j], r));
    (subset.notReadyAddresses ?? []).forEach((a, j) => checkAddress(a, [...at, 'notReadyAddresses', j], r));
    const ports = subset.ports ?? [];
    ports.forEach((port, j) => {
      if (port.name) checkName(port.name, [...at, 'ports', j, 'name'], r, dns1123Label, 'port name');
    });
    checkUnique(ports, (p) => p.name ?? '', (j) => [...at, 'ports', j, 'name'], r, 'port name');
  });
}

function checkAddress(address: EndpointAddress, path: FieldPath, r: ObjectReporter): void {
  checkIP(address.ip, [...path, 'ip'], r);
  if (address.hostname !== undefined) checkName(address.hostname, [...path, 'hostname'], r, dns1123Label, 'hostname');
  if (address.nodeName !== undefined) checkName(address.nodeName, [...path, 'nodeName'], r, nodeName, 'node name');
}
