import type { EndpointSlice, Inventory, Pod, Service, ServiceCIDR, Workload } from '../model/k8s.js';
import type { SimulationContext } from './context.js';
import { endpointSlicesFor } from './endpoint-slices.js';
import { allocateLoadBalancers } from './load-balancers.js';
import { allocateNodePorts } from './node-ports.js';
import { clusterNodes, withPodCIDRs } from './nodes.js';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, type SimulateOptions } from './options.js';
import { addressPods, placePods } from './placement.js';
import { allocateClusterIPs } from './service-addresses.js';
import { podsOf } from './workloads.js';

export type { SimulateOptions } from './options.js';
export type { SimulationContext } from './context.js';

export interface SimulationInput {
  inventory: Inventory;
  workloads: Workload[];
  /** --service-cidr; when empty, the input's ServiceCIDR objects, else kubeadm's default. */
  serviceCIDRs: string[];
  /** --cluster-cidr (or the configuration's); when empty, 10.244.0.0/16. */
  clusterCIDRs: string[];
  nodeName?: string;
  nodeIPs: string[];
  options: SimulateOptions;
}

/**
 * What the control plane would add to the input, and nothing else: cluster
 * IPs, node ports and load-balancer addresses for Services (the API server
 * and a load-balancer controller), pods for workloads (their controllers),
 * nodes and pod CIDRs (the kubelet and node IPAM), pod placement (the
 * scheduler) and pod addresses (the CNI). Pure: errors and notes go to the
 * context. The result is an inventory the rest of kpc reads as if a live
 * cluster had printed it; `kpc simulate` prints exactly these objects.
 */
export function simulate(input: SimulationInput, context: SimulationContext): Inventory {
  const { inventory, options } = input;
  const { cidrs: serviceCIDRs, objects: serviceCIDRObjects } = effectiveServiceCIDRs(input);
  const services = allocateServices(inventory.services, serviceCIDRs, options, context);
  let nodes = clusterNodes(inventory.nodes, { nodeName: input.nodeName, nodeIPs: input.nodeIPs, extra: options.extraNodes ?? 0 }, context);
  nodes = withPodCIDRs(nodes, input.clusterCIDRs.length ? input.clusterCIDRs : [DEFAULT_CLUSTER_CIDR], context);
  const pods = addressPods(placePods(podsFor(inventory.pods, input.workloads, nodes, context), nodes, context), nodes, context);
  const before = new Set<object>([...inventory.services, ...inventory.nodes, ...inventory.pods, ...inventory.serviceCIDRs]);
  const marked = <T extends { metadata: { annotations?: Record<string, string> } }>(list: T[]) => list.map((o) => (before.has(o) ? o : markSimulated(o)));
  return { ...inventory, services: marked(services), nodes: marked(nodes), pods: marked(pods), serviceCIDRs: marked(serviceCIDRObjects) };
}

/**
 * The EndpointSlices the EndpointSlice controller would write for a
 * simulated inventory (see endpointSlicesFor), marked as simulated, with the
 * input's own, all sorted by namespace/name: what `kpc simulate` prints.
 * Compiling needs none of them (the resolver reads the same endpoints from the
 * Pods), so only the printing path makes them.
 */
export function withEndpointSlices(inventory: Inventory): EndpointSlice[] {
  const key = (s: EndpointSlice) => `${s.metadata.namespace}/${s.metadata.name}`;
  const all = [...inventory.endpointSlices, ...endpointSlicesFor(inventory).map(markSimulated)];
  return all.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Set on every object the simulation made or completed, so that rules
 * compiled from `kpc simulate`'s output still say their addresses were
 * simulated (see isSimulated).
 */
export const SIMULATED_ANNOTATION = 'kpc.dev/simulated';

function markSimulated<T extends { metadata: { annotations?: Record<string, string> } }>(object: T): T {
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [SIMULATED_ANNOTATION]: 'true' } } };
}

/** Whether any object of the inventory was made or completed by a simulation. */
export function isSimulated(inventory: Inventory): boolean {
  const marked = (o: { metadata: { annotations?: Record<string, string> } }) => o.metadata.annotations?.[SIMULATED_ANNOTATION] !== undefined;
  return inventory.serviceCIDRs.some(marked) || inventory.nodes.some(marked) || inventory.services.some(marked) || inventory.pods.some(marked) || inventory.endpointSlices.some(marked);
}

/**
 * The ranges cluster IPs come from and the ServiceCIDR objects that say so:
 * the flags' (or the default's) as one object named "kubernetes", as the API
 * server makes it, or the input's own objects. Reading the simulated objects
 * back then gives the node the same service CIDRs.
 */
export function effectiveServiceCIDRs(input: Pick<SimulationInput, 'inventory' | 'serviceCIDRs'>): { cidrs: string[]; objects: ServiceCIDR[] } {
  const own = input.inventory.serviceCIDRs.flatMap((o) => o.spec?.cidrs ?? []);
  if (!input.serviceCIDRs.length && own.length) return { cidrs: own, objects: input.inventory.serviceCIDRs };
  const cidrs = input.serviceCIDRs.length ? input.serviceCIDRs : [DEFAULT_SERVICE_CIDR];
  return { cidrs, objects: [{ apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name: 'kubernetes' }, spec: { cidrs } }] };
}

function allocateServices(services: Service[], cidrs: string[], options: SimulateOptions, context: SimulationContext): Service[] {
  const specs = allocateClusterIPs(services, cidrs, context);
  allocateNodePorts(services, specs, options.nodePortRange ?? DEFAULT_NODE_PORT_RANGE, context);
  const statuses = allocateLoadBalancers(services, specs, options.loadBalancerPools ?? [], context);
  return services.map((service) => {
    const spec = specs.get(service);
    const status = statuses.get(service);
    if (!spec && !status) return service;
    const next: Service = { ...service, spec: spec ?? service.spec };
    if (status) next.status = status;
    return next;
  });
}

/** The input's pods and the workloads', sorted by namespace/name; a workload's pod named like an input pod is left out. */
function podsFor(inputPods: Pod[], workloads: Workload[], nodes: Inventory['nodes'], context: SimulationContext): Pod[] {
  const key = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;
  const names = new Set(inputPods.map(key));
  const pods = [...inputPods];
  for (const workload of distinct(workloads, context)) {
    for (const pod of podsOf(workload, nodes, context)) {
      if (names.has(key(pod))) context.note(`Pod ${key(pod)}: in the input already; ${workload.kind} ${workload.metadata.namespace}/${workload.metadata.name}'s pod of that name is left out`);
      else {
        names.add(key(pod));
        pods.push(pod);
      }
    }
  }
  return pods.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * The workloads by kind and namespace/name; a second one of the same identity
 * is an error (which one made the pods would depend on input order).
 */
function distinct(workloads: Workload[], context: SimulationContext): Workload[] {
  const key = (w: Workload) => `${w.kind}/${w.metadata.namespace}/${w.metadata.name}`;
  // Stable: copies of one identity stay in input order, next to each other.
  const sorted = workloads.map((w) => ({ w, k: key(w) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const out: Workload[] = [];
  let first: { w: Workload; k: string } | null = null;
  for (const entry of sorted) {
    if (first && first.k === entry.k) context.error(entry.w, ['metadata', 'name'], `is defined twice (first at ${context.where(first.w, ['metadata', 'name'])}); remove one copy`);
    else {
      first = entry;
      out.push(entry.w);
    }
  }
  return out;
}
