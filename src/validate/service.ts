import type { Service, ServicePort } from '../model/k8s.js';
import { ipFamily } from '../net/ip.js';
import { IPVS_SCHEDULERS, SCHEDULER_ANNOTATION } from '../graph/ipvs-schedulers.js';
import { checkLegacyCIDR, checkLegacyIP, checkMetadata, checkName, checkUnique, labelKey } from './common.js';
import { dns1035Label, dns1123Label, dns1123Subdomain, ianaSvcName, labelValue, qualifiedName } from './names.js';
import { quoted, type FieldPath, type ObjectReporter } from './reporter.js';

/** Semantic checks of a Service whose shape the schema has accepted. */
export function validateService(svc: Service, r: ObjectReporter): void {
  checkMetadata(svc.metadata, r, dns1035Label);
  const spec = svc.spec;
  const selector = spec.selector ?? {};
  for (const key of Object.keys(selector)) {
    const path = ['spec', 'selector', key];
    checkName(key, path, r, labelKey, 'label key');
    checkName(selector[key]!, path, r, labelValue, 'label value');
  }
  const type = spec.type ?? 'ClusterIP';
  if (type === 'ExternalName') {
    checkExternalName(svc, r);
    return;
  }
  const headless = spec.clusterIP === 'None';
  checkClusterIPs(svc, r);
  checkPorts(spec.ports ?? [], type, headless, r);
  const externalIPs = spec.externalIPs ?? [];
  externalIPs.forEach((_, i) => checkLegacyIP(externalIPs, i, ['spec', 'externalIPs', i], r));
  checkTrafficPolicies(svc, type, r);
  checkLoadBalancer(svc, type, r);
  checkTopology(svc, r);
  checkScheduler(svc, r);
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) {
    r.error(['spec', 'clusterIP'], `"None" (headless) is not allowed for type ${type}; remove clusterIP or use type ClusterIP`);
  }
}

function checkExternalName(svc: Service, r: ObjectReporter): void {
  const name = svc.spec.externalName;
  if (name === undefined || name === '') r.error(['spec', 'externalName'], 'is required for type ExternalName');
  else checkName(name.replace(/\.$/, ''), ['spec', 'externalName'], r, dns1123Subdomain);
}

function checkClusterIPs(svc: Service, r: ObjectReporter): void {
  const spec = svc.spec;
  if (spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIP !== 'None') checkLegacyIP(spec, 'clusterIP', ['spec', 'clusterIP'], r);
  (spec.clusterIPs ?? []).forEach((ip, i) => {
    if (ip === 'None') {
      if (i > 0 || spec.clusterIPs!.length > 1) r.error(['spec', 'clusterIPs', i], '"None" must be the only entry');
    } else checkLegacyIP(spec.clusterIPs!, i, ['spec', 'clusterIPs', i], r);
  });
  // Read after the checks above, which may have made legacy addresses canonical.
  const { clusterIP, clusterIPs, ipFamilies } = spec;
  if (clusterIPs?.length && clusterIP !== undefined && clusterIP !== '' && clusterIPs[0] !== clusterIP) {
    r.error(['spec', 'clusterIPs', 0], `must equal spec.clusterIP (${clusterIP})`);
  }
  const families = (clusterIPs ?? []).map(ipFamily).filter((f) => f !== null);
  if (families.length === 2 && families[0] === families[1]) r.error(['spec', 'clusterIPs', 1], 'dual-stack cluster IPs must be one IPv4 and one IPv6 address');
  if (ipFamilies?.length === 2 && ipFamilies[0] === ipFamilies[1]) r.error(['spec', 'ipFamilies', 1], 'must not repeat a family');
  families.forEach((family, i) => {
    const declared = ipFamilies?.[i];
    if (declared && declared !== `IPv${family}`) r.error(['spec', 'ipFamilies', i], `says ${declared} but clusterIPs[${i}] is an IPv${family} address`);
  });
}

function checkPorts(ports: ServicePort[], type: string, headless: boolean, r: ObjectReporter): void {
  if (ports.length === 0 && !headless) r.error(['spec', 'ports'], 'at least one port is required');
  const nodePortAllowed = type === 'NodePort' || type === 'LoadBalancer';
  ports.forEach((port, i) => {
    if (port.name === undefined || port.name === '') {
      if (ports.length > 1) r.error(['spec', 'ports', i, 'name'], 'is required when a Service has more than one port');
    } else checkName(port.name, ['spec', 'ports', i, 'name'], r, dns1123Label, 'port name');
    checkTargetPort(port, i, r);
    if (port.nodePort !== undefined && !nodePortAllowed) r.error(['spec', 'ports', i, 'nodePort'], `is only allowed for type NodePort or LoadBalancer, not ${type}`);
  });
  // Nothing can repeat in a Service's only port, as in most Services.
  if (ports.length < 2) return;
  checkUnique(ports, (p) => p.name ?? null, (i) => ['spec', 'ports', i, 'name'], r, 'port name');
  checkUnique(ports, (p) => `${p.port}/${p.protocol ?? 'TCP'}`, (i) => ['spec', 'ports', i, 'port'], r, 'port');
  checkUnique(ports, (p) => (p.nodePort ? `${p.nodePort}/${p.protocol ?? 'TCP'}` : null), (i) => ['spec', 'ports', i, 'nodePort'], r, 'nodePort');
}

/** `spec.ports[i].targetPort`; its path is made only when there is something to say. */
function checkTargetPort(port: ServicePort, i: number, r: ObjectReporter): void {
  const target = port.targetPort;
  if (target === undefined) return;
  const path = (): FieldPath => ['spec', 'ports', i, 'targetPort'];
  if (typeof target === 'number') {
    if (!Number.isInteger(target) || target < 1 || target > 65535) r.error(path(), `must be a port number from 1 to 65535 or a port name; got ${target}`);
  } else if (/^\d+$/.test(target)) {
    r.error(path(), `${quoted(target)} is a number written as a string; write it without quotes`);
  } else {
    checkName(target, path(), r, ianaSvcName, 'port name');
  }
}

function externallyAccessible(svc: Service, type: string): boolean {
  return type === 'NodePort' || type === 'LoadBalancer' || (svc.spec.externalIPs?.length ?? 0) > 0;
}

function checkTrafficPolicies(svc: Service, type: string, r: ObjectReporter): void {
  const spec = svc.spec;
  if (spec.externalTrafficPolicy !== undefined && !externallyAccessible(svc, type)) {
    r.error(['spec', 'externalTrafficPolicy'], 'may only be set on a Service with node ports, external IPs or a load balancer');
  }
  if (spec.healthCheckNodePort !== undefined && !(type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local')) {
    r.error(['spec', 'healthCheckNodePort'], 'may only be set on a LoadBalancer Service with externalTrafficPolicy Local');
  }
  if (spec.sessionAffinityConfig !== undefined && spec.sessionAffinity !== 'ClientIP') {
    r.error(['spec', 'sessionAffinityConfig'], 'is only used with sessionAffinity: ClientIP; set that or remove this field');
  }
}

function checkLoadBalancer(svc: Service, type: string, r: ObjectReporter): void {
  const ranges = svc.spec.loadBalancerSourceRanges ?? [];
  if (ranges.length > 0 && type !== 'LoadBalancer') r.error(['spec', 'loadBalancerSourceRanges'], 'may only be set on a LoadBalancer Service');
  ranges.forEach((_, i) => checkLegacyCIDR(ranges, i, ['spec', 'loadBalancerSourceRanges', i], r));
  if (svc.spec.loadBalancerIP) checkLegacyIP(svc.spec, 'loadBalancerIP', ['spec', 'loadBalancerIP'], r);
  (svc.status?.loadBalancer?.ingress ?? []).forEach((ingress, i) => {
    if (ingress.ip !== undefined) checkLegacyIP(ingress, 'ip', ['status', 'loadBalancer', 'ingress', i, 'ip'], r);
  });
}

const TRAFFIC_DISTRIBUTIONS = ['PreferClose', 'PreferSameZone', 'PreferSameNode'];

function checkTopology(svc: Service, r: ObjectReporter): void {
  const keys = svc.spec.topologyKeys ?? [];
  keys.forEach((key, i) => {
    if (key === '*') {
      if (i !== keys.length - 1) r.error(['spec', 'topologyKeys', i], '"*" must be the last key');
    } else checkName(key, ['spec', 'topologyKeys', i], r, qualifiedName, 'topology key');
  });
  const distribution = svc.spec.trafficDistribution;
  if (distribution !== undefined && !TRAFFIC_DISTRIBUTIONS.includes(distribution)) {
    r.warning(['spec', 'trafficDistribution'], `${quoted(distribution)} is not a value kube-proxy knows (${TRAFFIC_DISTRIBUTIONS.join(', ')}); it is ignored`);
  }
}

function checkScheduler(svc: Service, r: ObjectReporter): void {
  const scheduler = svc.metadata.annotations?.[SCHEDULER_ANNOTATION];
  if (scheduler !== undefined && !IPVS_SCHEDULERS.includes(scheduler)) {
    r.error(['metadata', 'annotations', SCHEDULER_ANNOTATION], `${quoted(scheduler)} is not an IPVS scheduler; use one of ${IPVS_SCHEDULERS.join(', ')}`);
  }
}
