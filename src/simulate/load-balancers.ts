import type { IPFamily } from '../graph/types.js';
import type { Service } from '../model/k8s.js';
import { ipFamily } from '../net/ip.js';
import { addressText, blockOf, offsetIn, type Block } from './block.js';
import type { SimulationContext } from './context.js';
import { Pool } from './pool.js';
import { label } from './service-addresses.js';

type Spec = Service['spec'];

/**
 * LoadBalancer ingress addresses as a bare-metal load-balancer controller
 * hands them out: only from --load-balancer-pool, one address per family of
 * the Service's cluster IPs, spec.loadBalancerIP when it is in a pool.
 * Services that already have an ingress keep it; without a pool of their
 * family they stay pending, as on a cluster with no such controller.
 * Returns the new statuses.
 */
export function allocateLoadBalancers(services: Service[], specs: Map<Service, Spec>, pools: string[], context: SimulationContext): Map<Service, Service['status']> {
  const ranges = new Map<IPFamily, { block: Block; pool: Pool<Service> }>();
  for (const text of pools) {
    const block = blockOf(text)!;
    // IPv4's network and broadcast addresses are left out of a pool larger than a /31.
    const edges = block.family === 4 && block.bits < 31 ? 1n : 0n;
    if (!ranges.has(block.family)) ranges.set(block.family, { block: { ...block, network: block.network + edges }, pool: new Pool(block.size - 2n * edges, 0n) });
  }
  const balanced = services.filter((s) => (specs.get(s) ?? s.spec).type === 'LoadBalancer');
  const waiting: Service[] = [];
  for (const service of balanced) {
    const ingress = service.status?.loadBalancer?.ingress ?? [];
    if (ingress.length) for (const entry of ingress) reserve(entry.ip, service, ranges);
    else waiting.push(service);
  }
  const statuses = new Map<Service, Service['status']>();
  for (const service of waiting) {
    const spec = specs.get(service) ?? service.spec;
    const families = (spec.clusterIPs ?? []).map((ip) => ipFamily(ip)).filter((f): f is IPFamily => f !== null);
    const ingress: { ip: string }[] = [];
    for (const family of families) {
      const range = ranges.get(family);
      if (!range) continue;
      const wanted = spec.loadBalancerIP && ipFamily(spec.loadBalancerIP) === family ? offsetIn(range.block, spec.loadBalancerIP) : null;
      const slot = wanted !== null && wanted < range.pool.size && range.pool.reserve(wanted, service) === undefined ? wanted : range.pool.allocate(label(service), service);
      if (slot !== null) ingress.push({ ip: addressText(range.block.network + slot, family) });
    }
    if (ingress.length === 0) {
      context.note(`Service ${label(service)}: load balancer pending (${pools.length ? 'no free address of its family in --load-balancer-pool' : 'no --load-balancer-pool'})`);
      continue;
    }
    context.note(`Service ${label(service)}: load balancer ingress ${ingress.map((i) => i.ip).join(', ')}`);
    statuses.set(service, { ...service.status, loadBalancer: { ingress } });
  }
  return statuses;
}

function reserve(ip: string | undefined, service: Service, ranges: Map<IPFamily, { block: Block; pool: Pool<Service> }>): void {
  const family = ip ? ipFamily(ip) : null;
  const range = family === null ? undefined : ranges.get(family);
  const offset = range ? offsetIn(range.block, ip!) : null;
  if (range && offset !== null && offset < range.pool.size) range.pool.reserve(offset, service);
}
