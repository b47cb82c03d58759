import { expect, it } from 'vitest';
import { compileGraph, emit } from '../../src/compile.js';
import type { NodeOptions } from '../../src/graph/node-context.js';
import type { KubeProxyConfiguration } from '../../src/model/k8s.js';
import { createWorld, type Host, type Pod, type Reply, type RuleBackend, type Target, type World } from './harness.js';
import { service, slices, toYaml, type PortSpec } from './manifests.js';

/**
 * Packet-flow scenarios shared by every backend the kernel here can load.
 * Each compiles manifests with kpc, loads the result into the world's node,
 * sends real traffic and asserts which backend answered and what source it saw.
 * A scenario only one backend passes is a bug in the graph or an emitter.
 */

/** nftables-compact: nftables mode in kpc's compact layout (docs/nftables-compact.md). */
export type Backend = 'iptables' | 'nftables' | 'nftables-compact';

const NODE = { 4: '192.0.2.10', 6: '2001:db8::10' } as const;
const CLIENT = { 4: '192.0.2.100', 6: '2001:db8::100' } as const;
const NO_ANSWER_MS = 600;

export interface Ctx {
  world: World;
  backend: Backend;
  /** Compiles the objects for the node and loads them, replacing what was loaded before. */
  load(objects: object[], options?: Partial<NodeOptions>): Promise<void>;
  pod(name: string): Pod;
  /** The rule texts `load` loaded last, as the kernel got them. */
  loaded?: { iptables?: { 4: string; 6: string }; nftables?: string };
  /** When set, called with every request burst a scenario makes, so another test can check its own prediction against what the kernel did. */
  observe?: (observation: Observation) => void | Promise<void>;
}

export interface Observation {
  from: Host | Pod;
  to: Target;
  replies: Reply[];
}

export async function createContext(backend: Backend): Promise<Ctx> {
  const world = await createWorld({ dualStack: true });
  await prepareNode(world);
  const ctx: Ctx = {
    world,
    backend,
    pod: (name) => world.pod(name),
    async load(objects, options = {}) {
      const { graph } = compileGraph([{ name: 'scenario.yaml', text: toYaml(objects) }], {
        nodeName: 'node',
        nodeIPs: [NODE[4], NODE[6]],
        clusterCIDRs: [world.clusterCIDR[4], world.clusterCIDR[6]],
        ...options,
      });
      await world.resetRules();
      if (backend === 'nftables' || backend === 'nftables-compact') {
        ctx.loaded = { nftables: emit(graph, { mode: 'nftables', family: 4, layout: backend === 'nftables' ? 'kube-proxy' : 'compact' }) };
        await world.loadRules('nftables', ctx.loaded.nftables!);
      } else {
        ctx.loaded = { iptables: { 4: emit(graph, { mode: 'iptables', family: 4 }), 6: emit(graph, { mode: 'iptables', family: 6 }) } };
        await world.loadRules('iptables', ctx.loaded.iptables![4]);
        await world.loadRules('ip6tables' as RuleBackend, ctx.loaded.iptables![6]);
      }
    },
  };
  return ctx;
}

/**
 * Two facts of a real node the bare world lacks: a default route (so traffic
 * to unknown addresses reaches FORWARD, where kube-proxy's filter rules sit,
 * instead of failing in routing), and no ICMP rate limit, so every rejected
 * attempt gets its own port-unreachable rather than the second one timing out.
 */
async function prepareNode(world: World): Promise<void> {
  for (const argv of [
    ['ip', 'route', 'add', 'default', 'dev', 'svc0'],
    ['ip', '-6', 'route', 'add', 'default', 'dev', 'svc0'],
    ['sysctl', '-q', '-w', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0'],
  ]) {
    const result = await world.exec(world.node, argv);
    if (result.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
  }
}

function answers(replies: Reply[]): Extract<Reply, { ok: true }>[] {
  const failed = replies.filter((r) => !r.ok);
  expect(failed, `every request should be answered: ${JSON.stringify(failed.slice(0, 3))}`).toEqual([]);
  return replies as Extract<Reply, { ok: true }>[];
}

async function backendsSeen(ctx: Ctx, from: Host | Pod, to: Target, count = 60): Promise<{ backends: Set<string>; sources: Set<string> }> {
  const all = await ctx.world.request(from, to, { count, timeoutMs: 2000 });
  await ctx.observe?.({ from, to, replies: all });
  const replies = answers(all);
  return { backends: new Set(replies.map((r) => r.backend)), sources: new Set(replies.map((r) => r.sawSource)) };
}

async function expectNoAnswer(ctx: Ctx, from: Host | Pod, to: Target, error: 'refused' | 'timeout'): Promise<void> {
  const replies = await ctx.world.request(from, to, { count: 3, timeoutMs: error === 'refused' ? 2000 : NO_ANSWER_MS });
  await ctx.observe?.({ from, to, replies });
  for (const reply of replies) {
    expect(reply.ok, `expected ${error}, got an answer ${JSON.stringify(reply)}`).toBe(false);
    if (!reply.ok) expect(reply.error).toBe(error);
  }
  // "Refused" must be fast: a REJECT, not a retransmission timeout.
  if (error === 'refused') for (const r of replies) expect(r.ms).toBeLessThan(500);
}

async function mustExec(ctx: Ctx, host: Host | Pod, argv: string[]): Promise<void> {
  const result = await ctx.world.exec(host, argv);
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
}

const HTTP: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080 }];

/** Registers every scenario as a vitest test against the context `get` returns. */
export function packetFlowScenarios(get: () => Ctx): void {
  it('a cluster IP reaches every endpoint and only those, from a pod and from the node', async () => {
    const ctx = get();
    const eps = ['local-1', 'local-2', 'remote-1'].map((n) => ({ pod: ctx.pod(n) }));
    await ctx.load([service('web', { clusterIPs: ['10.96.0.10'], ports: HTTP }), ...slices('web', HTTP, eps)]);
    const fromPod = await backendsSeen(ctx, ctx.pod('local-3'), { ip: '10.96.0.10', port: 80, proto: 'tcp' });
    expect([...fromPod.backends].sort()).toEqual(['local-1', 'local-2', 'remote-1']);
    // Pod to service is not masqueraded: the backend sees the pod.
    expect([...fromPod.sources]).toEqual([ctx.pod('local-3').ip[4]]);
    const fromNode = await backendsSeen(ctx, ctx.world.node, { ip: '10.96.0.10', port: 80, proto: 'tcp' });
    expect([...fromNode.backends].sort()).toEqual(['local-1', 'local-2', 'remote-1']);
  });

  it('UDP to a cluster IP reaches every endpoint', async () => {
    const ctx = get();
    const dns: PortSpec[] = [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }];
    await ctx.load([service('dns', { clusterIPs: ['10.96.0.53'], ports: dns }), ...slices('dns', dns, [{ pod: ctx.pod('local-1') }, { pod: ctx.pod('remote-2') }])]);
    const seen = await backendsSeen(ctx, ctx.pod('local-2'), { ip: '10.96.0.53', port: 53, proto: 'udp' }, 40);
    expect([...seen.backends].sort()).toEqual(['local-1', 'remote-2']);
  });

  it('a node port and an external IP from an outside client reach the endpoints, masqueraded', async () => {
    const ctx = get();
    const ports: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }];
    const eps = [{ pod: ctx.pod('local-1') }, { pod: ctx.pod('remote-1') }];
    await ctx.load([service('np', { type: 'NodePort', clusterIPs: ['10.96.0.11'], ports, externalIPs: ['198.51.100.7'] }), ...slices('np', ports, eps)]);
    for (const to of [{ ip: NODE[4], port: 30080 }, { ip: '198.51.100.7', port: 80 }]) {
      const seen = await backendsSeen(ctx, ctx.world.client, { ...to, proto: 'tcp' }, 40);
      expect([...seen.backends].sort()).toEqual(['local-1', 'remote-1']);
      expect([...seen.sources]).toEqual([NODE[4]]);
    }
  });

  it('a pod reaching itself through its service works (hairpin, masqueraded)', async () => {
    const ctx = get();
    await ctx.load([service('self', { clusterIPs: ['10.96.0.12'], ports: HTTP }), ...slices('self', HTTP, [{ pod: ctx.pod('local-1') }])]);
    const seen = await backendsSeen(ctx, ctx.pod('local-1'), { ip: '10.96.0.12', port: 80, proto: 'tcp' }, 5);
    expect([...seen.backends]).toEqual(['local-1']);
    expect([...seen.sources]).toEqual([NODE[4]]);
  });

  it('a service port with no endpoints is refused at once (REJECT), not black-holed', async () => {
    const ctx = get();
    const ports: PortSpec[] = [{ name: 'http', port: 80, nodePort: 30081 }];
    await ctx.load([service('empty', { type: 'NodePort', clusterIPs: ['10.96.0.13'], ports })]);
    await expectNoAnswer(ctx, ctx.pod('local-1'), { ip: '10.96.0.13', port: 80, proto: 'tcp' }, 'refused');
    await expectNoAnswer(ctx, ctx.world.node, { ip: '10.96.0.13', port: 80, proto: 'tcp' }, 'refused');
    await expectNoAnswer(ctx, ctx.world.client, { ip: NODE[4], port: 30081, proto: 'tcp' }, 'refused');
  });

  it('ClientIP affinity keeps one client on one endpoint', async () => {
    const ctx = get();
    const eps = ['local-1', 'local-2', 'remote-1', 'remote-2'].map((n) => ({ pod: ctx.pod(n) }));
    await ctx.load([service('sticky', { clusterIPs: ['10.96.0.14'], ports: HTTP, sessionAffinity: 'ClientIP' }), ...slices('sticky', HTTP, eps)]);
    const seen = await backendsSeen(ctx, ctx.pod('local-3'), { ip: '10.96.0.14', port: 80, proto: 'tcp' }, 30);
    expect(seen.backends.size).toBe(1);
    const other = await backendsSeen(ctx, ctx.world.client, { ip: '10.96.0.14', port: 80, proto: 'tcp' }, 30);
    expect(other.backends.size).toBe(1);
  });

  it('traffic from outside the cluster CIDR to a cluster IP is masqueraded; pod traffic is not', async () => {
    const ctx = get();
    await ctx.load([service('far', { clusterIPs: ['10.96.0.15'], ports: HTTP }), ...slices('far', HTTP, [{ pod: ctx.pod('remote-1') }])]);
    const fromClient = await backendsSeen(ctx, ctx.world.client, { ip: '10.96.0.15', port: 80, proto: 'tcp' }, 5);
    expect([...fromClient.sources]).toEqual([NODE[4]]);
    const fromPod = await backendsSeen(ctx, ctx.pod('local-2'), { ip: '10.96.0.15', port: 80, proto: 'tcp' }, 5);
    expect([...fromPod.sources]).toEqual([ctx.pod('local-2').ip[4]]);
  });

  it('externalTrafficPolicy Local: outside traffic only to local endpoints with its source kept; none local drops', async () => {
    const ctx = get();
    const ports: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30082 }];
    const far: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30083 }];
    await ctx.load([
      service('local', { type: 'NodePort', clusterIPs: ['10.96.0.16'], ports, externalTrafficPolicy: 'Local' }),
      ...slices('local', ports, [{ pod: ctx.pod('local-1') }, { pod: ctx.pod('remote-1') }]),
      service('nolocal', { type: 'NodePort', clusterIPs: ['10.96.0.17'], ports: far, externalTrafficPolicy: 'Local' }),
      ...slices('nolocal', far, [{ pod: ctx.pod('remote-2') }]),
    ]);
    const outside = await backendsSeen(ctx, ctx.world.client, { ip: NODE[4], port: 30082, proto: 'tcp' }, 20);
    expect([...outside.backends]).toEqual(['local-1']);
    expect([...outside.sources]).toEqual([CLIENT[4]]);
    await expectNoAnswer(ctx, ctx.world.client, { ip: NODE[4], port: 30083, proto: 'tcp' }, 'timeout');
    // Pods are short-circuited to every endpoint, even with none on this node.
    const fromPod = await backendsSeen(ctx, ctx.pod('local-3'), { ip: NODE[4], port: 30083, proto: 'tcp' }, 5);
    expect([...fromPod.backends]).toEqual(['remote-2']);
  });

  it('externalTrafficPolicy Local: the node and pods reach a load-balancer IP or external IP with no local endpoint through every endpoint; outside traffic drops', async () => {
    // kubernetes#131765, fixed by #132456: nftables mode used to drop the node's own connections here.
    const ctx = get();
    const ports: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30088 }];
    await ctx.load([
      service('lb-far', { type: 'LoadBalancer', clusterIPs: ['10.96.0.28'], ports, externalTrafficPolicy: 'Local', loadBalancerIPs: ['198.51.100.20'], externalIPs: ['198.51.100.21'] }),
      ...slices('lb-far', ports, [{ pod: ctx.pod('remote-1') }, { pod: ctx.pod('remote-2') }]),
    ]);
    for (const ip of ['198.51.100.20', '198.51.100.21']) {
      const fromNode = await backendsSeen(ctx, ctx.world.node, { ip, port: 80, proto: 'tcp' }, 20);
      expect([...fromNode.backends].sort()).toEqual(['remote-1', 'remote-2']);
      // The node's own traffic is masqueraded (its source would be the external address otherwise).
      expect([...fromNode.sources]).toEqual([NODE[4]]);
      const fromPod = await backendsSeen(ctx, ctx.pod('local-3'), { ip, port: 80, proto: 'tcp' }, 20);
      expect([...fromPod.backends].sort()).toEqual(['remote-1', 'remote-2']);
      expect([...fromPod.sources]).toEqual([ctx.pod('local-3').ip[4]]);
      await expectNoAnswer(ctx, ctx.world.client, { ip, port: 80, proto: 'tcp' }, 'timeout');
    }
  });

  it('externalTrafficPolicy Local: with a local endpoint, the node and pods reach a load-balancer IP through every endpoint, outside clients only the local one', async () => {
    const ctx = get();
    const ports: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30089 }];
    await ctx.load([
      service('lb-near', { type: 'LoadBalancer', clusterIPs: ['10.96.0.29'], ports, externalTrafficPolicy: 'Local', loadBalancerIPs: ['198.51.100.22'] }),
      ...slices('lb-near', ports, [{ pod: ctx.pod('local-1') }, { pod: ctx.pod('remote-1') }]),
    ]);
    const to = { ip: '198.51.100.22', port: 80, proto: 'tcp' } as const;
    const fromNode = await backendsSeen(ctx, ctx.world.node, to, 30);
    expect([...fromNode.backends].sort()).toEqual(['local-1', 'remote-1']);
    expect([...fromNode.sources]).toEqual([NODE[4]]);
    const fromPod = await backendsSeen(ctx, ctx.pod('local-3'), to, 30);
    expect([...fromPod.backends].sort()).toEqual(['local-1', 'remote-1']);
    expect([...fromPod.sources]).toEqual([ctx.pod('local-3').ip[4]]);
    const outside = await backendsSeen(ctx, ctx.world.client, to, 20);
    expect([...outside.backends]).toEqual(['local-1']);
    expect([...outside.sources]).toEqual([CLIENT[4]]);
  });

  it('service CIDR known: an address in it that no Service holds is dropped in both nftables layouts (iptables mode has no such rule), a held one\'s unused port refused', async () => {
    const ctx = get();
    await ctx.load([service('held', { clusterIPs: ['10.96.0.30'], ports: HTTP }), ...slices('held', HTTP, [{ pod: ctx.pod('remote-1') }])], { serviceCIDRs: ['10.96.0.0/16'] });
    for (const from of [ctx.pod('local-3'), ctx.world.node]) {
      await expectNoAnswer(ctx, from, { ip: '10.96.0.99', port: 80, proto: 'tcp' }, 'timeout');
      // cluster-ips-check rejects a held cluster IP's other ports; iptables mode lets them into the black hole.
      await expectNoAnswer(ctx, from, { ip: '10.96.0.30', port: 81, proto: 'tcp' }, ctx.backend === 'iptables' ? 'timeout' : 'refused');
    }
    // Both time out above (the world routes the service CIDR into a black hole), so tell kube-proxy's
    // drop from the black hole: give the unallocated address to a pod and route it there. Without a
    // rule (iptables mode), the packet leaves by the node's routes and the pod answers.
    const unallocated = '10.96.0.99';
    const owner = ctx.pod('local-1');
    await mustExec(ctx, owner, ['ip', 'addr', 'add', `${unallocated}/32`, 'dev', 'eth0']);
    await mustExec(ctx, ctx.world.node, ['ip', 'route', 'add', `${unallocated}/32`, 'dev', 'veth-local-1']);
    try {
      const replies = await ctx.world.request(ctx.pod('local-3'), { ip: unallocated, port: 8080, proto: 'tcp' }, { count: 3, timeoutMs: NO_ANSWER_MS });
      if (ctx.backend !== 'iptables') expect(replies.map((r) => (r.ok ? 'answered' : r.error))).toEqual(['timeout', 'timeout', 'timeout']);
      else expect(replies.map((r) => (r.ok ? r.backend : r.error))).toEqual(['local-1', 'local-1', 'local-1']);
    } finally {
      await mustExec(ctx, ctx.world.node, ['ip', 'route', 'del', `${unallocated}/32`, 'dev', 'veth-local-1']);
      await mustExec(ctx, owner, ['ip', 'addr', 'del', `${unallocated}/32`, 'dev', 'eth0']);
    }
  });

  it('internalTrafficPolicy Local: cluster IP only to local endpoints; none local drops', async () => {
    const ctx = get();
    await ctx.load([
      service('near', { clusterIPs: ['10.96.0.18'], ports: HTTP, internalTrafficPolicy: 'Local' }),
      ...slices('near', HTTP, [{ pod: ctx.pod('local-1') }, { pod: ctx.pod('remote-1') }]),
      service('away', { clusterIPs: ['10.96.0.19'], ports: HTTP, internalTrafficPolicy: 'Local' }),
      ...slices('away', HTTP, [{ pod: ctx.pod('remote-1') }]),
    ]);
    const near = await backendsSeen(ctx, ctx.pod('local-3'), { ip: '10.96.0.18', port: 80, proto: 'tcp' }, 20);
    expect([...near.backends]).toEqual(['local-1']);
    await expectNoAnswer(ctx, ctx.pod('local-3'), { ip: '10.96.0.19', port: 80, proto: 'tcp' }, 'timeout');
  });

  it('with no ready endpoint, serving terminating endpoints get the traffic, not-serving ones never', async () => {
    const ctx = get();
    const eps = [
      { pod: ctx.pod('local-1'), ready: false, serving: true, terminating: true },
      { pod: ctx.pod('local-2'), ready: false, serving: false, terminating: true },
      { pod: ctx.pod('remote-1'), ready: false, serving: false, terminating: false },
    ];
    await ctx.load([service('drain', { clusterIPs: ['10.96.0.20'], ports: HTTP }), ...slices('drain', HTTP, eps)]);
    const seen = await backendsSeen(ctx, ctx.pod('local-3'), { ip: '10.96.0.20', port: 80, proto: 'tcp' }, 20);
    expect([...seen.backends]).toEqual(['local-1']);
  });

  it('loadBalancerSourceRanges: listed sources reach the load-balancer IP, others are dropped', async () => {
    const ctx = get();
    const ports: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30084 }];
    const other: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30085 }];
    await ctx.load([
      service('open', { type: 'LoadBalancer', clusterIPs: ['10.96.0.21'], ports, loadBalancerIPs: ['198.51.100.10'], loadBalancerSourceRanges: ['192.0.2.100/32'] }),
      ...slices('open', ports, [{ pod: ctx.pod('remote-1') }]),
      service('closed', { type: 'LoadBalancer', clusterIPs: ['10.96.0.22'], ports: other, loadBalancerIPs: ['198.51.100.11'], loadBalancerSourceRanges: ['203.0.113.0/24'] }),
      ...slices('closed', other, [{ pod: ctx.pod('remote-1') }]),
    ]);
    const allowed = await backendsSeen(ctx, ctx.world.client, { ip: '198.51.100.10', port: 80, proto: 'tcp' }, 5);
    expect([...allowed.backends]).toEqual(['remote-1']);
    await expectNoAnswer(ctx, ctx.world.client, { ip: '198.51.100.11', port: 80, proto: 'tcp' }, 'timeout');
  });

  it('IPv6: a dual-stack service answers on its IPv6 cluster IP and node port', async () => {
    const ctx = get();
    const ports: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30086 }];
    const eps = [{ pod: ctx.pod('local-1') }, { pod: ctx.pod('remote-1') }];
    await ctx.load([service('v6', { type: 'NodePort', clusterIPs: ['10.96.0.23', 'fd00:10:96::23'], ports }), ...slices('v6', ports, eps, [4, 6])]);
    const inside = await backendsSeen(ctx, ctx.pod('local-3'), { ip: 'fd00:10:96::23', port: 80, proto: 'tcp' }, 30);
    expect([...inside.backends].sort()).toEqual(['local-1', 'remote-1']);
    expect([...inside.sources]).toEqual([ctx.pod('local-3').ip[6]]);
    const outside = await backendsSeen(ctx, ctx.world.client, { ip: NODE[6], port: 30086, proto: 'tcp' }, 30);
    expect([...outside.backends].sort()).toEqual(['local-1', 'remote-1']);
    expect([...outside.sources]).toEqual([NODE[6]]);
    const v4 = await backendsSeen(ctx, ctx.pod('local-3'), { ip: '10.96.0.23', port: 80, proto: 'tcp' }, 20);
    expect([...v4.backends].sort()).toEqual(['local-1', 'remote-1']);
  });

  it('topology hints: with every endpoint hinted, only those for this node\'s zone are used', async () => {
    const ctx = get();
    const eps = [{ pod: ctx.pod('local-1'), zone: 'zone-a' }, { pod: ctx.pod('remote-1'), zone: 'zone-b' }];
    await ctx.load([service('zonal', { clusterIPs: ['10.96.0.24'], ports: HTTP, trafficDistribution: 'PreferClose' }), ...slices('zonal', HTTP, eps)], { zone: 'zone-a' });
    const seen = await backendsSeen(ctx, ctx.pod('local-3'), { ip: '10.96.0.24', port: 80, proto: 'tcp' }, 20);
    expect([...seen.backends]).toEqual(['local-1']);
  });

  it('legacy topologyKeys: kubernetes.io/hostname keeps traffic on this node', async () => {
    const ctx = get();
    const legacy = service('legacy', { clusterIPs: ['10.96.0.25'], ports: HTTP, topologyKeys: ['kubernetes.io/hostname', '*'] });
    await ctx.load([legacy, ...slices('legacy', HTTP, [{ pod: ctx.pod('local-2') }, { pod: ctx.pod('remote-2') }])]);
    const seen = await backendsSeen(ctx, ctx.pod('local-3'), { ip: '10.96.0.25', port: 80, proto: 'tcp' }, 20);
    expect([...seen.backends]).toEqual(['local-2']);
  });

  it('masquerade-all: even pod traffic to a cluster IP is masqueraded', async () => {
    const ctx = get();
    await ctx.load([service('masq', { clusterIPs: ['10.96.0.26'], ports: HTTP }), ...slices('masq', HTTP, [{ pod: ctx.pod('remote-1') }])], { masqueradeAll: true });
    const seen = await backendsSeen(ctx, ctx.pod('local-1'), { ip: '10.96.0.26', port: 80, proto: 'tcp' }, 5);
    expect([...seen.sources]).toEqual([NODE[4]]);
  });

  it('nodePortAddresses: node ports answer only on node addresses inside the listed CIDRs', async () => {
    const ctx = get();
    const ports: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30087 }];
    const objects = [service('limited', { type: 'NodePort', clusterIPs: ['10.96.0.27'], ports }), ...slices('limited', ports, [{ pod: ctx.pod('remote-1') }])];
    const config = (cidrs: string[]) => ({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', nodePortAddresses: cidrs }) as KubeProxyConfiguration;
    await ctx.load(objects, { config: config(['192.0.2.0/24']) });
    const inside = await backendsSeen(ctx, ctx.world.client, { ip: NODE[4], port: 30087, proto: 'tcp' }, 5);
    expect([...inside.backends]).toEqual(['remote-1']);
    await ctx.load(objects, { config: config(['203.0.113.0/24']) });
    const replies = await ctx.world.request(ctx.world.client, { ip: NODE[4], port: 30087, proto: 'tcp' }, { count: 3, timeoutMs: NO_ANSWER_MS });
    expect(replies.every((r) => !r.ok)).toBe(true);
  });
}
