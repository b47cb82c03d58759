import { dump } from 'js-yaml';
import type { Pod } from './harness.js';

/** Small builders for the manifests the packet-flow scenarios compile. */

export interface PortSpec {
  name?: string;
  port: number;
  targetPort?: number;
  nodePort?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  clusterIPs: string[];
  ports: PortSpec[];
  externalIPs?: string[];
  sessionAffinity?: 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds (default 10800). */
  affinityTimeoutSeconds?: number;
  externalTrafficPolicy?: 'Local';
  internalTrafficPolicy?: 'Local';
  loadBalancerIPs?: string[];
  loadBalancerSourceRanges?: string[];
  trafficDistribution?: string;
  topologyKeys?: string[];
}

export function service(name: string, spec: ServiceSpec): object {
  const families = spec.clusterIPs.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'test' },
    spec: {
      type: spec.type ?? 'ClusterIP',
      clusterIP: spec.clusterIPs[0],
      clusterIPs: spec.clusterIPs,
      ipFamilies: families,
      ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
      ports: spec.ports.map((p) => ({ protocol: 'TCP', ...p })),
      ...(spec.externalIPs ? { externalIPs: spec.externalIPs } : {}),
      ...(spec.sessionAffinity ? { sessionAffinity: spec.sessionAffinity } : {}),
      ...(spec.affinityTimeoutSeconds ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: spec.affinityTimeoutSeconds } } } : {}),
      ...(spec.externalTrafficPolicy ? { externalTrafficPolicy: spec.externalTrafficPolicy } : {}),
      ...(spec.internalTrafficPolicy ? { internalTrafficPolicy: spec.internalTrafficPolicy } : {}),
      ...(spec.loadBalancerSourceRanges ? { loadBalancerSourceRanges: spec.loadBalancerSourceRanges } : {}),
      ...(spec.trafficDistribution ? { trafficDistribution: spec.trafficDistribution } : {}),
      ...(spec.topologyKeys ? { topologyKeys: spec.topologyKeys } : {}),
    },
    ...(spec.loadBalancerIPs ? { status: { loadBalancer: { ingress: spec.loadBalancerIPs.map((ip) => ({ ip })) } } } : {}),
  };
}

export interface EndpointSpec {
  pod: Pod;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  /** The endpoint's zone; it is also its only zone hint, as the slice controller sets for PreferClose. */
  zone?: string;
}

/** One EndpointSlice per family for the Service's endpoints, as the slice controller writes them. */
export function slices(serviceName: string, ports: PortSpec[], endpoints: EndpointSpec[], families: (4 | 6)[] = [4]): object[] {
  return families.map((family) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-v${family}`, namespace: 'test', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: family === 4 ? 'IPv4' : 'IPv6',
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [family === 4 ? e.pod.ip[4] : e.pod.ip[6]!],
      nodeName: e.pod.nodeName,
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.zone ? { zone: e.zone, hints: { forZones: [{ name: e.zone }] } } : {}),
    })),
  }));
}

export function toYaml(objects: object[]): string {
  return objects.map((o) => dump(o)).join('---\n');
}
