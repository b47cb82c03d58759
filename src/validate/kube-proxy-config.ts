import { IPVS_SCHEDULERS } from '../graph/ipvs-schedulers.js';
import type { KubeProxyConfiguration } from '../model/k8s.js';
import { parseCIDR } from '../net/ip.js';
import { checkName } from './common.js';
import { dns1123Subdomain } from './names.js';
import { quoted, type ObjectReporter } from './reporter.js';

/**
 * The values kpc takes from kube-proxy's configuration, whether it came with
 * --config or among the manifests. hostnameOverride becomes the node name and
 * is printed into the output, so it is held to a node name's format.
 */
export function validateKubeProxyConfiguration(config: KubeProxyConfiguration, r: ObjectReporter): void {
  if (config.hostnameOverride) checkName(config.hostnameOverride, ['hostnameOverride'], r, dns1123Subdomain, 'node name');
  const families = new Set<number>();
  for (const text of (config.clusterCIDR ?? '').split(',').filter(Boolean)) {
    const cidr = text.includes('/') ? parseCIDR(text.trim()) : null;
    if (!cidr) r.error(['clusterCIDR'], `${quoted(text)} is not a CIDR such as 10.244.0.0/16`);
    else if (families.has(cidr.family)) r.error(['clusterCIDR'], `give at most one IPv${cidr.family} CIDR (one per IP family, comma-separated for dual stack)`);
    else families.add(cidr.family);
  }
  (config.nodePortAddresses ?? []).forEach((entry, i) => {
    if (entry !== 'primary' && (!entry.includes('/') || !parseCIDR(entry))) r.error(['nodePortAddresses', i], `${quoted(entry)} is not a CIDR or "primary"`);
  });
  const scheduler = config.ipvs?.scheduler;
  if (scheduler && !IPVS_SCHEDULERS.includes(scheduler)) {
    r.error(['ipvs', 'scheduler'], `${quoted(scheduler)} is not an IPVS scheduler; use one of ${IPVS_SCHEDULERS.join(', ')}`);
  }
}
