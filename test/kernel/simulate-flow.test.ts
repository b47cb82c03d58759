import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileGraph, emit, simulateSources } from '../../src/compile.js';
import type { Pod, Service } from '../../src/model/k8s.js';
import { createWorld, describeKernel, type World } from './harness.js';

/**
 * A chart's manifests, simulated, then run: the harness's pods are created at
 * the addresses --simulate gave them, the rules compiled with --simulate are
 * loaded, and traffic to the simulated cluster IPs and node ports must reach
 * exactly the simulated endpoints.
 */
const node = (name: string, ip: string, podCIDR: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
  spec: { podCIDR },
  status: { addresses: [{ type: 'InternalIP', address: ip }] },
});
const deployment = (name: string, replicas: number, host: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop' },
  spec: {
    replicas,
    template: {
      metadata: { labels: { app: name, tier: 'all' } },
      spec: { nodeSelector: { 'kubernetes.io/hostname': host }, containers: [{ name: 'echo', ports: [{ name: 'http', containerPort: 8080 }] }] },
    },
  },
});
const service = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec });
const CHART = [
  node('node', '192.0.2.10', '10.244.1.0/24'),
  node('remote', '192.0.2.11', '10.244.2.0/24'),
  deployment('web', 3, 'node'),
  deployment('api', 2, 'remote'),
  service('web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] }),
  service('api', { selector: { app: 'api' }, ports: [{ port: 9376, targetPort: 'http' }] }),
  service('all', { selector: { tier: 'all' }, ports: [{ port: 443, targetPort: 8080 }] }),
];
const SOURCES = [{ name: 'chart.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: CHART }) }];
const OPTIONS = { simulate: {}, nodeName: 'node', nodeIPs: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] };

describeKernel('a simulated cluster in a real kernel (nftables)', () => {
  let world: World;
  const harnessName = new Map<string, string>();
  let services: Map<string, Service>;

  beforeAll(async () => {
    const { objects } = simulateSources(SOURCES, OPTIONS);
    const pods = (objects as Pod[]).filter((o) => o.kind === 'Pod');
    services = new Map((objects as Service[]).filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s]));
    const podIPv4: Record<string, string> = {};
    for (const [nodeName, prefix] of [['node', 'local'], ['remote', 'remote']] as const) {
      pods
        .filter((p) => p.spec!.nodeName === nodeName)
        .forEach((p, i) => {
          podIPv4[`${prefix}-${i + 1}`] = p.status!.podIP!;
          harnessName.set(p.metadata.name, `${prefix}-${i + 1}`);
        });
    }
    expect(Object.keys(podIPv4).sort()).toEqual(['local-1', 'local-2', 'local-3', 'remote-1', 'remote-2']);
    world = await createWorld({ podIPv4, tcpPorts: [8080] });
    await world.resetRules();
    await world.loadRules('nftables', emit(compileGraph(SOURCES, OPTIONS).graph, { mode: 'nftables', family: 4 }));
  }, 60_000);
  afterAll(() => world?.destroy());

  async function backends(ip: string, port: number): Promise<string[]> {
    const replies = await world.request(world.client, { ip, port, proto: 'tcp' }, { count: 40, timeoutMs: 2000 });
    expect(replies.every((r) => r.ok), JSON.stringify(replies.find((r) => !r.ok))).toBe(true);
    return [...new Set(replies.map((r) => (r.ok ? r.backend : '')))].sort();
  }

  it('sends a cluster IP to exactly the simulated pods of its selector', async () => {
    expect(await backends(services.get('web')!.spec.clusterIP!, 80)).toEqual(['local-1', 'local-2', 'local-3']);
    expect(await backends(services.get('api')!.spec.clusterIP!, 9376)).toEqual(['remote-1', 'remote-2']);
    expect(await backends(services.get('all')!.spec.clusterIP!, 443)).toEqual(['local-1', 'local-2', 'local-3', 'remote-1', 'remote-2']);
  });

  it('sends the simulated node port to the same pods', async () => {
    expect(await backends('192.0.2.10', services.get('web')!.spec.ports![0]!.nodePort!)).toEqual(['local-1', 'local-2', 'local-3']);
  });
});
