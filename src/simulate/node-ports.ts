import type { Service, ServicePort } from '../model/k8s.js';
import type { SimulationContext } from './context.js';
import { NODE_PORT_BAND, Pool, staticBand } from './pool.js';
import { label } from './service-addresses.js';

type Spec = Service['spec'];

/**
 * Node ports as the API server gives them: every port of a NodePort Service,
 * and of a LoadBalancer Service unless allocateLoadBalancerNodePorts is
 * false, gets one; ports of one Service with the same number share one (TCP
 * and UDP on 53); a LoadBalancer Service with externalTrafficPolicy Local
 * gets a healthCheckNodePort. Explicit ports are kept and checked first.
 * `specs` holds each Service's spec as allocated so far; changed specs are
 * written back into it.
 */
export function allocateNodePorts(services: Service[], specs: Map<Service, Spec>, range: [number, number], context: SimulationContext): void {
  const [first, last] = range;
  const size = BigInt(last - first + 1);
  const pool = new Pool<Service>(size, staticBand(size, NODE_PORT_BAND));
  const rangeText = `${first}-${last}`;
  const reserve = (service: Service, port: number, path: (string | number)[]) => {
    if (port < first || port > last) {
      context.error(service, path, `${port} is outside the node port range ${rangeText}; the API server refuses it: pick a port inside, or pass the cluster's --service-node-port-range`);
      return;
    }
    const earlier = pool.reserve(BigInt(port - first), service);
    if (earlier !== undefined && earlier !== service) {
      context.error(service, path, `${port} is also a node port of Service ${label(earlier)} (${context.where(earlier, ['spec', 'ports'])}); the API server gives a node port to one Service only`);
    }
  };
  for (const service of services) {
    const spec = specs.get(service) ?? service.spec;
    (spec.ports ?? []).forEach((port, i) => {
      if (port.nodePort !== undefined) reserve(service, port.nodePort, ['spec', 'ports', i, 'nodePort']);
    });
    if (spec.healthCheckNodePort !== undefined) reserve(service, spec.healthCheckNodePort, ['spec', 'healthCheckNodePort']);
  }
  for (const service of services) {
    const spec = specs.get(service) ?? service.spec;
    const wantsPorts = spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
    const wantsHealth = spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && spec.healthCheckNodePort === undefined;
    const missing = wantsPorts && (spec.ports ?? []).some((p) => p.nodePort === undefined);
    if (!missing && !wantsHealth) continue;
    const next: Spec = { ...spec };
    if (missing) next.ports = portsWithNodePorts(service, spec.ports ?? [], pool, first, rangeText, context);
    if (wantsHealth) {
      const slot = pool.allocate(`${label(service)}:health`, service);
      if (slot === null) exhausted(service, ['spec', 'healthCheckNodePort'], rangeText, context);
      else {
        next.healthCheckNodePort = first + Number(slot);
        context.note(`Service ${label(service)}: health check node port ${next.healthCheckNodePort}`);
      }
    }
    specs.set(service, next);
  }
}

function portsWithNodePorts(service: Service, ports: ServicePort[], pool: Pool<Service>, first: number, rangeText: string, context: SimulationContext): ServicePort[] {
  const byNumber = new Map<number, number>();
  for (const port of ports) if (port.nodePort !== undefined) byNumber.set(port.port, port.nodePort);
  return ports.map((port, i) => {
    if (port.nodePort !== undefined) return port;
    let nodePort = byNumber.get(port.port);
    if (nodePort === undefined) {
      // Keyed by the port's name (or number): a Service keeps its node port when other Services come and go.
      const slot = pool.allocate(`${label(service)}:${port.name || port.port}`, service);
      if (slot === null) {
        exhausted(service, ['spec', 'ports', i, 'nodePort'], rangeText, context);
        return port;
      }
      nodePort = first + Number(slot);
      byNumber.set(port.port, nodePort);
    }
    context.note(`Service ${label(service)}: node port ${nodePort} for port ${port.name || port.port}/${port.protocol ?? 'TCP'}`);
    return { ...port, nodePort };
  });
}

function exhausted(service: Service, path: (string | number)[], rangeText: string, context: SimulationContext): void {
  context.error(service, path, `no node port is left in the range ${rangeText}; pass a larger --service-node-port-range`);
}
