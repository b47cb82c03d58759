import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile.js';
import { deployment, service, simulateText, simulationErrors } from './helpers.js';

const ds = (name: string, nodeSelector: Record<string, string> = {}) =>
  `---\n${JSON.stringify({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: 'default' }, spec: { template: { metadata: { labels: { app: name } }, spec: { nodeSelector, containers: [{ name: 'c' }] } } } })}\n`;
const sts = `---\n${JSON.stringify({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' }, spec: { serviceName: 'db', replicas: 3, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c' }] } } } })}\n`;
const node = (name: string, labels: Record<string, string>, podCIDR?: string) =>
  `---\n${JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, ...(podCIDR ? { spec: { podCIDR } } : {}) })}\n`;

describe('workloads to pods', () => {
  it('makes replicas pods (default 1) for Deployments, ReplicaSets and ReplicationControllers, Ready, with the template labels and ports', () => {
    const text = deployment('web', 3, { app: 'web' }) + deployment('one', undefined as unknown as number, { app: 'one' }) + deployment('rs', 2, { app: 'rs' }, {}, 'ReplicaSet') + deployment('rc', 0, { app: 'rc' }, {}, 'ReplicationController');
    const { pods } = simulateText(text);
    const names = [...pods.keys()];
    expect(names.filter((n) => n.startsWith('default/web-'))).toHaveLength(3);
    expect(names.filter((n) => n.startsWith('default/one-'))).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('default/rs-'))).toHaveLength(2);
    expect(names.filter((n) => n.startsWith('default/rc-'))).toHaveLength(0);
    const pod = [...pods.values()].find((p) => p.metadata.name.startsWith('web-'))!;
    expect(pod.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod.metadata.labels).toMatchObject({ app: 'web' });
    expect(pod.spec!.containers![0]!.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(pod.status).toMatchObject({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    expect(pod.status!.podIP).toMatch(/^10\.244\./);
  });

  it('names StatefulSet pods name-0..n-1 with hostname and subdomain', () => {
    const { pods } = simulateText(sts);
    expect([...pods.keys()]).toEqual(['default/db-0', 'default/db-1', 'default/db-2']);
    expect(pods.get('default/db-1')!.spec).toMatchObject({ hostname: 'db-1', subdomain: 'db' });
  });

  it('runs a DaemonSet pod on each node its nodeSelector matches; simulated nodes carry the kubelet labels', () => {
    const text = node('arm', { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' }) + ds('everywhere') + ds('linux-amd64', { 'kubernetes.io/arch': 'amd64' });
    const { pods, nodes } = simulateText(text, { nodeName: 'node-a', simulate: { extraNodes: 2 } });
    expect([...nodes.keys()]).toEqual(['arm', 'node-a', 'sim-node-1', 'sim-node-2']);
    expect(nodes.get('sim-node-1')!.metadata.labels).toEqual({ 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': 'sim-node-1', 'kubernetes.io/os': 'linux' });
    const on = (prefix: string) => [...pods.values()].filter((p) => p.metadata.name.startsWith(prefix)).map((p) => p.spec!.nodeName).sort();
    expect(on('everywhere-')).toEqual(['arm', 'node-a', 'sim-node-1', 'sim-node-2']);
    expect(on('linux-amd64-')).toEqual(['node-a', 'sim-node-1', 'sim-node-2']);
  });

  it('--simulate-nodes N makes sim-node-1..N: those already in the input (an earlier kpc simulate) count, so a second run adds none', () => {
    const { nodes } = simulateText(node('sim-node-1', { 'kubernetes.io/os': 'linux' }) + node('sim-node-3', {}), { simulate: { extraNodes: 2 } });
    expect([...nodes.keys()]).toEqual(['sim-node-1', 'sim-node-2', 'sim-node-3']);
    expect(nodes.get('sim-node-1')!.metadata.labels).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('gives each node a pod CIDR (its own spec.podCIDR, else a /24 of the cluster CIDR) and each pod an address in its node\'s', () => {
    const text = node('given', { 'kubernetes.io/os': 'linux' }, '10.1.7.0/24') + deployment('web', 20, { app: 'web' });
    const { pods, nodes } = simulateText(text, { clusterCIDRs: ['10.1.0.0/16'], simulate: { extraNodes: 3 } });
    expect(nodes.get('given')!.spec!.podCIDR).toBe('10.1.7.0/24');
    const cidrs = [...nodes.values()].map((n) => n.spec!.podCIDR!);
    expect(new Set(cidrs).size).toBe(4);
    for (const pod of pods.values()) {
      const cidr = nodes.get(pod.spec!.nodeName!)!.spec!.podCIDR!;
      expect(pod.status!.podIP!.split('.').slice(0, 3).join('.')).toBe(cidr.split('.').slice(0, 3).join('.'));
      expect(Number(pod.status!.podIP!.split('.')[3])).toBeGreaterThan(1);
    }
    expect(new Set([...pods.values()].map((p) => p.status!.podIP)).size).toBe(20);
  });

  it('gives dual-stack nodes a pod CIDR of each family (/24 and /64) and their pods an address of each', () => {
    const { pods, nodes } = simulateText(deployment('web', 2, { app: 'web' }), { clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'] });
    const node = [...nodes.values()][0]!;
    expect(node.spec!.podCIDRs!.map((c) => c.split('/')[1])).toEqual(['24', '64']);
    for (const pod of pods.values()) {
      expect(pod.status!.podIPs!.map((p) => p.ip)).toHaveLength(2);
      expect(pod.status!.podIPs![1]!.ip).toMatch(/^fd00:10:244:/);
    }
  });

  it('resolves a Service\'s selector and named targetPort through the simulated pods', () => {
    const text = deployment('web', 3, { app: 'web' }) + service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] });
    const { graph } = compileGraph([{ name: 'in.yaml', text }], { simulate: {}, nodeName: 'node-a' });
    expect(graph.servicePorts).toHaveLength(1);
    expect(graph.servicePorts[0]!.clusterEndpoints.map((e) => e.port)).toEqual([8080, 8080, 8080]);
  });

  it('refuses a workload defined twice (its pods would depend on input order)', () => {
    expect(simulationErrors(deployment('web', 3, { app: 'web' }) + deployment('web', 1, { app: 'web' }))).toEqual([
      'in.yaml:4: Deployment default/web: metadata.name: is defined twice (first at in.yaml:2); remove one copy',
    ]);
    // The same name in another kind is another workload.
    expect(simulateText(deployment('web', 1, { app: 'web' }) + deployment('web', 1, { app: 'web' }, {}, 'ReplicaSet')).pods.size).toBe(2);
  });

  it('reads workloads only with --simulate, and checks only what it reads of them', () => {
    const text = deployment('web', 3, { app: 'web' });
    expect(compileGraph([{ name: 'in.yaml', text }], {}).warnings.map((d) => d.message)).toEqual(['"Deployment" is not a kind kpc reads; skipped']);
    expect(simulationErrors(deployment('web', -1, { app: 'web' }))).toEqual(['in.yaml:2: Deployment default/web: spec.replicas: must be an integer from 0 to 10000; got -1']);
  });
});
