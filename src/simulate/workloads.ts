import type { Node, Pod, PodTemplate, Workload } from '../model/k8s.js';
import type { SimulationContext } from './context.js';
import { suffix } from './hash.js';
import { matchesSelector } from './placement.js';

/**
 * The pods a workload's controller would create, not yet placed or addressed:
 * `replicas` of them (default 1) for a Deployment, ReplicaSet or
 * ReplicationController, name-0..n-1 with hostname and subdomain for a
 * StatefulSet, one per node its nodeSelector matches for a DaemonSet.
 * Names are shaped like the controllers' but derived from the workload's
 * namespace/name and the replica (or node), not from the template, so an
 * edited template does not rename (and re-address) every pod.
 */
export function podsOf(workload: Workload, nodes: Node[], context: SimulationContext): Pod[] {
  const { namespace, name } = workload.metadata;
  const key = `${namespace}/${name}`;
  const template = workload.spec.template;
  const replicas = workload.spec.replicas ?? 1;
  switch (workload.kind) {
    case 'Deployment': {
      const hash = suffix(`${key}:replicaset`, 10);
      return range(replicas).map((i) => podFrom(template, namespace!, `${name}-${hash}-${suffix(`${key}:${i}`, 5)}`, { 'pod-template-hash': hash }));
    }
    case 'ReplicaSet':
    case 'ReplicationController':
      return range(replicas).map((i) => podFrom(template, namespace!, `${name}-${suffix(`${key}:${i}`, 5)}`));
    case 'StatefulSet':
      return range(replicas).map((i) => {
        const podName = `${name}-${i}`;
        const pod = podFrom(template, namespace!, podName, { 'apps.kubernetes.io/pod-index': String(i), 'statefulset.kubernetes.io/pod-name': podName });
        pod.spec!.hostname = podName;
        if (workload.spec.serviceName) pod.spec!.subdomain = workload.spec.serviceName;
        return pod;
      });
    case 'DaemonSet': {
      const selector = template.spec?.nodeSelector ?? {};
      const matching = nodes.filter((node) => matchesSelector(node, selector));
      if (matching.length === 0) context.note(`DaemonSet ${key}: no node matches its nodeSelector; no pods`);
      return matching.map((node) => {
        const pod = podFrom(template, namespace!, `${name}-${suffix(`${key}:${node.metadata.name}`, 5)}`);
        pod.spec!.nodeName = node.metadata.name;
        return pod;
      });
    }
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A pod with what kpc reads of the template: labels, containers' ports, placement and naming fields. */
function podFrom(template: PodTemplate, namespace: string, name: string, extraLabels: Record<string, string> = {}): Pod {
  const source = template.spec ?? {};
  const spec: NonNullable<Pod['spec']> = {};
  if (source.nodeName) spec.nodeName = source.nodeName;
  if (source.nodeSelector && Object.keys(source.nodeSelector).length) spec.nodeSelector = { ...source.nodeSelector };
  if (source.hostNetwork) spec.hostNetwork = true;
  if (source.hostname) spec.hostname = source.hostname;
  if (source.subdomain) spec.subdomain = source.subdomain;
  spec.containers = (source.containers ?? []).map((c) => {
    const container: NonNullable<NonNullable<Pod['spec']>['containers']>[number] = { name: c.name };
    if (c.ports?.length) container.ports = c.ports.map((p) => ({ ...p }));
    return container;
  });
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { ...(template.metadata?.labels ?? {}), ...extraLabels } }, spec };
}
