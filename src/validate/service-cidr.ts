import type { ServiceCIDR } from '../model/k8s.js';
import { parseCIDR } from '../net/ip.js';
import { checkMetadata } from './common.js';
import { dns1123Subdomain } from './names.js';
import { quoted, type ObjectReporter } from './reporter.js';

/**
 * As the API server checks a ServiceCIDR: one or two ranges, at most one per
 * IP family, each a network address with its prefix (10.96.0.0/12, not
 * 10.96.0.1/12).
 */
export function validateServiceCIDR(object: ServiceCIDR, r: ObjectReporter): void {
  checkMetadata(object.metadata, r, dns1123Subdomain, false);
  const cidrs = object.spec?.cidrs ?? [];
  if (cidrs.length === 0) r.error(['spec', 'cidrs'], 'is required: give one CIDR per IP family, such as 10.96.0.0/12');
  if (cidrs.length > 2) r.error(['spec', 'cidrs'], `has ${cidrs.length} entries; give at most two, one per IP family`);
  const families = new Set<number>();
  cidrs.forEach((text, i) => {
    const cidr = text.includes('/') ? parseCIDR(text) : null;
    if (!cidr) return r.error(['spec', 'cidrs', i], `${quoted(text)} is not a CIDR such as 10.96.0.0/12`);
    if (cidr.text !== text) r.error(['spec', 'cidrs', i], `${quoted(text)} is not in canonical form; write ${cidr.text}`);
    else if (families.has(cidr.family)) r.error(['spec', 'cidrs', i], `is a second IPv${cidr.family} CIDR; give at most one per IP family`);
    families.add(cidr.family);
  });
}
