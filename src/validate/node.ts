import type { Node } from '../model/k8s.js';
import { checkCIDR, checkIP, checkMetadata } from './common.js';
import { dns1123Subdomain } from './names.js';
import type { ObjectReporter } from './reporter.js';

const IP_ADDRESS_TYPES = new Set(['InternalIP', 'ExternalIP']);

export function validateNode(node: Node, r: ObjectReporter): void {
  checkMetadata(node.metadata, r, dns1123Subdomain, false);
  (node.status?.addresses ?? []).forEach((address, i) => {
    if (IP_ADDRESS_TYPES.has(address.type)) checkIP(address.address, ['status', 'addresses', i, 'address'], r);
  });
  if (node.spec?.podCIDR) checkCIDR(node.spec.podCIDR, ['spec', 'podCIDR'], r);
  (node.spec?.podCIDRs ?? []).forEach((cidr, i) => checkCIDR(cidr, ['spec', 'podCIDRs', i], r));
}
