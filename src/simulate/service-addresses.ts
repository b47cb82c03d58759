import type { IPFamily } from '../graph/types.js';
import type { Service } from '../model/k8s.js';
import { ipFamily } from '../net/ip.js';
import { addressText, blockOf, offsetIn, type Block } from './block.js';
import type { SimulationContext } from './context.js';
import { CLUSTER_IP_BAND, Pool, staticBand } from './pool.js';

/** One family's service CIDR with the pool its cluster IPs come from. */
interface FamilyRange {
  block: Block;
  /** Slot 0 is the address after the network address; IPv4's broadcast address is not a slot. */
  pool: Pool<Service>;
}

/**
 * Cluster IPs as the API server gives them: for each Service that needs one,
 * the families its ipFamilyPolicy and ipFamilies ask for (the first service
 * CIDR's family first), explicit addresses kept and checked, the others from
 * the pool (see pool.ts for the probe). Services come sorted by namespace/name.
 */
export function allocateClusterIPs(services: Service[], cidrs: string[], context: SimulationContext): Map<Service, Service['spec']> {
  const ranges = new Map<IPFamily, FamilyRange>();
  for (const text of cidrs) {
    const block = blockOf(text)!;
    if (ranges.has(block.family)) continue;
    const slots = block.size - (block.family === 4 ? 2n : 1n);
    ranges.set(block.family, { block, pool: new Pool(slots > 0n ? slots : 0n, staticBand(block.size, CLUSTER_IP_BAND)) });
  }
  const primary: IPFamily = blockOf(cidrs[0] ?? '')?.family ?? 4;
  const plans = new Map<Service, Plan>();
  // Every explicit address is reserved before any is handed out, so none is handed out twice.
  for (const service of services) {
    const plan = planFamilies(service, primary, ranges, context);
    if (plan) {
      plans.set(service, plan);
      reserveExplicit(service, plan, ranges, context);
    }
  }
  const specs = new Map<Service, Service['spec']>();
  for (const [service, plan] of plans) {
    const ips = plan.families.map((family, i) => plan.given[i] ?? allocate(service, family, ranges.get(family)!, context));
    if (ips.some((ip) => ip === null)) continue;
    if (plan.given.length === plan.families.length && service.spec.ipFamilies?.length === plan.families.length) continue;
    const spec = { ...service.spec, clusterIP: ips[0]!, clusterIPs: ips as string[], ipFamilies: plan.families.map(familyName), ipFamilyPolicy: plan.policy };
    specs.set(service, spec);
    const given = new Set(plan.given);
    for (const ip of ips) if (!given.has(ip!)) context.note(`Service ${label(service)}: cluster IP ${ip} from ${ranges.get(ipFamily(ip!)!)!.block.text}`);
  }
  return specs;
}

interface Plan {
  families: IPFamily[];
  /** Explicit addresses, one per family in order (fewer than families when the rest are to allocate). */
  given: string[];
  policy: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
}

/** The families a Service gets, or null when it gets no cluster IP (ExternalName, headless) or cannot get one. */
function planFamilies(service: Service, primary: IPFamily, ranges: Map<IPFamily, FamilyRange>, context: SimulationContext): Plan | null {
  const spec = service.spec;
  if (spec.type === 'ExternalName') return null;
  const given = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  if (given[0] === 'None') return null;
  const policy = spec.ipFamilyPolicy ?? (given.length > 1 || (spec.ipFamilies?.length ?? 0) > 1 ? 'RequireDualStack' : 'SingleStack');
  const asked = spec.ipFamilies?.length ? spec.ipFamilies.map((f) => (f === 'IPv6' ? 6 : 4)) : given.map((ip) => ipFamily(ip) ?? 4);
  const families: IPFamily[] = asked.length ? [...asked] : [primary];
  const other: IPFamily = families[0] === 4 ? 6 : 4;
  const dualStack = ranges.size === 2;
  if (policy === 'RequireDualStack' && !dualStack) {
    context.error(service, ['spec', 'ipFamilyPolicy'], `RequireDualStack needs a service CIDR of each family; pass --service-cidr for IPv${other} too`);
    return null;
  }
  if (policy !== 'SingleStack' && dualStack && families.length === 1) families.push(other);
  if (policy === 'SingleStack') families.length = 1;
  for (const family of families) {
    if (ranges.has(family)) continue;
    const path = spec.ipFamilies?.length ? ['spec', 'ipFamilies'] : ['spec', 'clusterIP'];
    const example = family === 6 ? 'fd00:10:96::/112' : '10.96.0.0/12';
    context.error(service, path, `needs an IPv${family} cluster IP but no IPv${family} service CIDR is known; pass --service-cidr ${example}${family === 6 ? ' (kpc has no IPv6 default)' : ''}`);
    return null;
  }
  return { families, given: given.slice(0, families.length), policy };
}

function reserveExplicit(service: Service, plan: Plan, ranges: Map<IPFamily, FamilyRange>, context: SimulationContext): void {
  plan.given.forEach((ip, i) => {
    const path = service.spec.clusterIPs?.length ? ['spec', 'clusterIPs', i] : ['spec', 'clusterIP'];
    const family = ipFamily(ip);
    const range = family === null ? undefined : ranges.get(family);
    const offset = range ? offsetIn(range.block, ip) : null;
    const slot = offset === null ? -1n : offset - 1n;
    if (!range || slot < 0n || slot >= range.pool.size) {
      const cidr = range ? range.block.text : 'none';
      context.error(service, path, `${ip} is not in the service CIDR (${cidr}) or is its network or broadcast address; the API server refuses it: pick an address inside, or pass the cluster's --service-cidr`);
      return;
    }
    const earlier = range.pool.reserve(slot, service);
    if (earlier !== undefined && earlier !== service) {
      context.error(service, path, `${ip} is also the cluster IP of Service ${label(earlier)} (${context.where(earlier, ['spec', 'clusterIP'])}); the API server gives an address to one Service only`);
    }
  });
}

function allocate(service: Service, family: IPFamily, range: FamilyRange, context: SimulationContext): string | null {
  const slot = range.pool.allocate(`${label(service)}`, service);
  if (slot === null) {
    context.error(service, ['spec', 'clusterIP'], `no IPv${family} address is left in the service CIDR ${range.block.text}; pass a larger --service-cidr`);
    return null;
  }
  return addressText(range.block.network + 1n + slot, family);
}

function familyName(family: IPFamily): 'IPv4' | 'IPv6' {
  return family === 4 ? 'IPv4' : 'IPv6';
}

export function label(service: { metadata: { namespace?: string; name: string } }): string {
  return `${service.metadata.namespace}/${service.metadata.name}`;
}
