// Deterministic generator of realistic clusters for the benchmark: Services of
// mixed types with their EndpointSlices (or Pods, for the selector variant),
// printed as multi-document YAML the way `kubectl get -o yaml` lays objects
// out (keys sorted, lists not indented under their key, numbers-as-strings
// quoted), or as the List `kubectl get -o json` prints. Generated on demand
// from a seed, never stored as fixtures.
//
//   npx tsx bench/generate-cluster.ts --service-ports 1000 [--endpoints 10]
//        [--nodes 50] [--seed 1] [--pods] [--json] > cluster.yaml
//
// Address plan (documentation/benchmark ranges and the kube defaults only):
//   cluster IPs     10.96.0.0/12, unique, random (10.96.0.1 left to `kubernetes`)
//   pod IPs         10.128.0.0/9: node i owns 10.(128+i).0.0/16
//   node IPs        172.18.0.(10+i); node-00 is the node compiled for
//   LB ingress IPs  198.18.0.0 to 198.19.127.255 (RFC 2544), unique
//   external IPs    198.19.128.0/17, unique
//   node ports      30000-32767, unique (health-check node ports included)
import { pathToFileURL } from 'node:url';

export interface ClusterOptions {
  /** Service ports to create (a Service has one port, or two named ones). */
  servicePorts: number;
  /** Endpoints of every service port. Default 10. */
  endpointsPerPort?: number;
  /** Nodes the endpoints are spread over. Default 50. */
  nodes?: number;
  /** PRNG seed: the same options give byte-identical output. Default 1. */
  seed?: number;
  /** Where endpoints come from: EndpointSlices (default) or Pods matched by selector. */
  endpointSource?: 'slices' | 'pods';
  /**
   * Packet-flow mode: every Service is a plain single-port TCP ClusterIP
   * (port 80) whose endpoints are exactly these addresses on `fixedTargetPort`,
   * so traffic to any of them is answered by the kernel harness's pods.
   */
  fixedEndpoints?: { ip: string; nodeName: string }[];
  fixedTargetPort?: number;
  /**
   * yaml (default): multi-document YAML as `kubectl get -o yaml` lays objects
   * out. json: one `kind: List` as `kubectl get -o json` prints it.
   */
  format?: 'yaml' | 'json';
}

export interface GeneratedCluster {
  /** The manifests, in options.format. */
  text: string;
  /** What to pass kpc for the node the rules are compiled for. */
  node: { name: string; ip: string; clusterCIDR: string };
  counts: {
    services: number;
    servicePorts: number;
    endpoints: number;
    endpointSlices: number;
    pods: number;
    nodes: number;
    nodePorts: number;
    byType: Record<'ClusterIP' | 'NodePort' | 'LoadBalancer', number>;
    clientIPAffinity: number;
    externalTrafficPolicyLocal: number;
    internalTrafficPolicyLocal: number;
    externalIPs: number;
    sourceRanges: number;
    documents: number;
  };
  /** Cluster IP and port of every Service, in namespace/name order (kpc's rule order). */
  services: { namespace: string; name: string; clusterIP: string; port: number }[];
}

export const CLUSTER_CIDR = '10.128.0.0/9';
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;
const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const EPOCH = Date.UTC(2024, 0, 15, 8, 0, 0);

// ---------------------------------------------------------------------------
// Seeded randomness (mulberry32): fast, tiny, the same on every platform.

export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
  alnum(n: number): string {
    // The characters Kubernetes' generateName suffixes use (no vowels).
    const chars = 'bcdfghjklmnpqrstvwxz2456789';
    let s = '';
    for (let i = 0; i < n; i++) s += chars[this.int(chars.length)];
    return s;
  }
  uid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${'89ab'[this.int(4)]}${this.hex(3)}-${this.hex(12)}`;
  }
}

/** Unique values drawn from [0, size) without listing the range. */
class UniquePool {
  private readonly used = new Set<number>();
  constructor(private readonly random: Random, private readonly size: number, private readonly reserved: number[] = []) {
    for (const r of reserved) this.used.add(r);
  }
  get left(): number {
    return this.size - this.used.size;
  }
  take(): number | null {
    if (this.left <= 0) return null;
    // Rejection sampling stays cheap while the pool is less than ~90% used.
    for (;;) {
      const v = this.random.int(this.size);
      if (!this.used.has(v)) {
        this.used.add(v);
        return v;
      }
    }
  }
}

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const BASE_10_96 = (10 << 24) | (96 << 16);
const BASE_198_18 = (198 << 24) | (18 << 16);
const BASE_198_19_128 = (198 << 24) | (19 << 16) | (128 << 8);

// ---------------------------------------------------------------------------
// Names: realistic, unique, valid DNS-1035 labels.

const TEAMS = ['payments', 'search', 'identity', 'catalog', 'checkout', 'media', 'ads', 'billing', 'infra', 'data', 'mobile', 'growth'];
const PARTS = ['api', 'web', 'worker', 'gateway', 'cache', 'db', 'queue', 'auth', 'store', 'proxy', 'metrics', 'events', 'render', 'sync', 'index'];
const IMAGES = ['app', 'server', 'service', 'daemon'];

/** Port shapes of real Services: [name, port, targetPort] (name '' = single unnamed port). */
const SINGLE_PORTS: [number, number | string][] = [
  [80, 8080],
  [80, 80],
  [443, 8443],
  [8080, 8080],
  [9090, 9090],
  [6379, 6379],
  [5432, 5432],
  [3000, 3000],
  [80, 'http'],
];
const DOUBLE_PORTS: [string, number, number | string][][] = [
  [
    ['http', 80, 8080],
    ['https', 443, 8443],
  ],
  [
    ['grpc', 9000, 9000],
    ['metrics', 9100, 'metrics'],
  ],
  [
    ['http', 80, 'http'],
    ['metrics', 9090, 9090],
  ],
];

function timestamp(random: Random): string {
  return new Date(EPOCH + random.int(90 * 24 * 3600) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------
// Generation

interface ServiceDraft {
  namespace: string;
  name: string;
  uid: string;
  ports: { name: string; port: number; targetPort: number | string; protocol: 'TCP' | 'UDP' }[];
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  clusterIP: string;
}

export function generateCluster(options: ClusterOptions): GeneratedCluster {
  const endpointsPerPort = options.endpointsPerPort ?? 10;
  const nodeCount = options.nodes ?? 50;
  const random = new Random(options.seed ?? 1);
  const source = options.endpointSource ?? 'slices';
  const fixed = options.fixedEndpoints;
  if (!Number.isInteger(options.servicePorts) || options.servicePorts < 1) throw new Error('servicePorts must be a positive integer');
  if (nodeCount < 1 || nodeCount > 127) throw new Error('nodes must be from 1 to 127 (one /16 of 10.128.0.0/9 each)');
  if (!fixed && endpointsPerPort > 60_000) throw new Error('endpointsPerPort too large for the address plan');

  const clusterIPs = new UniquePool(random, 1 << 20, [0, 1, (1 << 20) - 1]);
  const nodePorts = new UniquePool(random, NODE_PORT_MAX - NODE_PORT_MIN + 1);
  // 198.18.0.0 up to 198.19.127.255: the external IPs start at 198.19.128.0, and an address in both is refused by nft ("File exists").
  const lbIPs = new UniquePool(random, (1 << 16) + (1 << 15), [0]);
  const extIPs = new UniquePool(random, 1 << 15, [0]);
  const nextPodHost = new Array<number>(nodeCount).fill(2);
  const namespaces = Math.max(1, Math.round(options.servicePorts / 40));

  const counts: GeneratedCluster['counts'] = {
    services: 0,
    servicePorts: 0,
    endpoints: 0,
    endpointSlices: 0,
    pods: 0,
    nodes: fixed ? 0 : nodeCount,
    nodePorts: 0,
    byType: { ClusterIP: 0, NodePort: 0, LoadBalancer: 0 },
    clientIPAffinity: 0,
    externalTrafficPolicyLocal: 0,
    internalTrafficPolicyLocal: 0,
    externalIPs: 0,
    sourceRanges: 0,
    documents: 0,
  };
  const serviceDocs: object[] = [];
  const endpointDocs: object[] = [];
  const listed: GeneratedCluster['services'] = [];
  const nodeNames = Array.from({ length: nodeCount }, (_, i) => `node-${String(i).padStart(2, '0')}`);

  const nodeDocs = fixed
    ? []
    : nodeNames.map((name, i) => ({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          creationTimestamp: timestamp(random),
          labels: {
            'kubernetes.io/arch': 'amd64',
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'topology.kubernetes.io/region': 'region-1',
            'topology.kubernetes.io/zone': ZONES[i % ZONES.length]!,
          },
          name,
          resourceVersion: String(1000 + random.int(9_000_000)),
          uid: random.uid(),
        },
        spec: { podCIDR: `10.${128 + i}.0.0/16`, podCIDRs: [`10.${128 + i}.0.0/16`] },
        status: {
          addresses: [
            { address: `172.18.0.${10 + i}`, type: 'InternalIP' },
            { address: name, type: 'Hostname' },
          ],
        },
      }));

  let index = 0;
  while (counts.servicePorts < options.servicePorts) {
    const left = options.servicePorts - counts.servicePorts;
    const namespace = fixed ? 'bench' : `${random.pick(TEAMS)}-${String(random.int(namespaces)).padStart(3, '0')}`;
    const name = fixed ? `svc-${String(index).padStart(6, '0')}` : `${random.pick(PARTS)}-${random.pick(PARTS)}-${String(index).padStart(6, '0')}`;
    index++;
    const draft: ServiceDraft = {
      namespace,
      name,
      uid: random.uid(),
      ports: [],
      type: 'ClusterIP',
      clusterIP: ipv4(BASE_10_96 + clusterIPs.take()!),
    };
    if (fixed) {
      draft.ports.push({ name: '', port: 80, targetPort: options.fixedTargetPort ?? 8080, protocol: 'TCP' });
    } else if (left >= 2 && random.chance(0.2)) {
      for (const [portName, port, target] of random.pick(DOUBLE_PORTS)) draft.ports.push({ name: portName, port, targetPort: target, protocol: 'TCP' });
    } else if (random.chance(0.04)) {
      draft.ports.push({ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' });
    } else {
      const [port, target] = random.pick(SINGLE_PORTS);
      draft.ports.push({ name: '', port, targetPort: target, protocol: 'TCP' });
    }
    // Node ports are scarce (2,768 in the default range): NodePort and
    // LoadBalancer take a fraction, and fall back to ClusterIP when the range runs out.
    const roll = random.next();
    const wanted = fixed ? 'ClusterIP' : roll < 0.05 ? 'NodePort' : roll < 0.08 ? 'LoadBalancer' : 'ClusterIP';
    const needs = draft.ports.length + (wanted === 'LoadBalancer' ? 1 : 0);
    draft.type = wanted !== 'ClusterIP' && nodePorts.left >= needs + 64 ? wanted : 'ClusterIP';
    counts.services++;
    counts.servicePorts += draft.ports.length;
    counts.byType[draft.type]++;
    listed.push({ namespace, name, clusterIP: draft.clusterIP, port: draft.ports[0]!.port });

    serviceDocs.push(serviceObject(draft, random, !!fixed, { nodePorts, lbIPs, extIPs }, counts));
    const endpoints = endpointsFor(draft, endpointsPerPort, random, nodeNames, nextPodHost, fixed);
    counts.endpoints += endpoints.length * draft.ports.length;
    if (source === 'pods') {
      for (const ep of endpoints) endpointDocs.push(podObject(draft, ep, random));
      counts.pods += endpoints.length;
    } else {
      for (let i = 0; i < endpoints.length || i === 0; i += 100) {
        endpointDocs.push(sliceObject(draft, endpoints.slice(i, i + 100), random));
        counts.endpointSlices++;
      }
    }
  }
  counts.nodePorts = NODE_PORT_MAX - NODE_PORT_MIN + 1 - nodePorts.left;

  const documents = [...nodeDocs, ...serviceDocs, ...endpointDocs];
  counts.documents = documents.length;
  listed.sort((a, b) => {
    const ka = `${a.namespace}/${a.name}`;
    const kb = `${b.namespace}/${b.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  return {
    text: options.format === 'json' ? toKubectlJson(documents) : documents.map(toYaml).join('---\n'),
    node: fixed ? { name: 'node', ip: '192.0.2.10', clusterCIDR: '10.244.0.0/16' } : { name: nodeNames[0]!, ip: '172.18.0.10', clusterCIDR: CLUSTER_CIDR },
    counts,
    services: listed,
  };
}

function metadata(random: Random, namespace: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    creationTimestamp: timestamp(random),
    name,
    namespace,
    resourceVersion: String(1000 + random.int(9_000_000)),
    uid: random.uid(),
    ...extra,
  };
}

function serviceObject(
  draft: ServiceDraft,
  random: Random,
  plain: boolean,
  pools: { nodePorts: UniquePool; lbIPs: UniquePool; extIPs: UniquePool },
  counts: GeneratedCluster['counts'],
): object {
  const external = draft.type !== 'ClusterIP';
  const spec: Record<string, unknown> = {
    clusterIP: draft.clusterIP,
    clusterIPs: [draft.clusterIP],
    internalTrafficPolicy: 'Cluster',
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    ports: draft.ports.map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      ...(external ? { nodePort: NODE_PORT_MIN + pools.nodePorts.take()! } : {}),
      port: p.port,
      protocol: p.protocol,
      targetPort: p.targetPort,
    })),
    selector: { 'app.kubernetes.io/name': draft.name },
    sessionAffinity: 'None',
    type: draft.type,
  };
  const status: Record<string, unknown> = { loadBalancer: {} };
  if (!plain) {
    if (random.chance(0.05)) {
      spec.sessionAffinity = 'ClientIP';
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: random.chance(0.5) ? 10800 : 600 } };
      counts.clientIPAffinity++;
    }
    if (random.chance(0.03)) {
      spec.internalTrafficPolicy = 'Local';
      counts.internalTrafficPolicyLocal++;
    }
    if (draft.type === 'ClusterIP' && random.chance(0.01)) {
      spec.externalIPs = [ipv4(BASE_198_19_128 + pools.extIPs.take()!)];
      counts.externalIPs++;
    }
    if (external || spec.externalIPs) {
      const local = random.chance(0.3);
      spec.externalTrafficPolicy = local ? 'Local' : 'Cluster';
      if (local) counts.externalTrafficPolicyLocal++;
    }
    if (draft.type === 'LoadBalancer') {
      spec.allocateLoadBalancerNodePorts = true;
      if (spec.externalTrafficPolicy === 'Local') spec.healthCheckNodePort = NODE_PORT_MIN + pools.nodePorts.take()!;
      if (random.chance(0.2)) {
        spec.loadBalancerSourceRanges = ['203.0.113.0/24', `198.51.100.${random.int(16) * 16}/28`];
        counts.sourceRanges++;
      }
      status.loadBalancer = { ingress: [{ ip: ipv4(BASE_198_18 + pools.lbIPs.take()!), ipMode: 'VIP' }] };
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(random, draft.namespace, draft.name, {
      labels: { 'app.kubernetes.io/name': draft.name, 'app.kubernetes.io/part-of': draft.namespace.replace(/-\d+$/, '') },
      uid: draft.uid,
    }),
    spec,
    status,
  };
}

interface EndpointDraft {
  ip: string;
  nodeName: string;
  podName: string;
  podUid: string;
  zone: string | null;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

function endpointsFor(
  draft: ServiceDraft,
  count: number,
  random: Random,
  nodeNames: string[],
  nextPodHost: number[],
  fixed: ClusterOptions['fixedEndpoints'],
): EndpointDraft[] {
  const hash = random.alnum(10);
  if (fixed) {
    return fixed.map((f, i) => ({ ip: f.ip, nodeName: f.nodeName, podName: `${draft.name}-${hash}-${i}`, podUid: random.uid(), zone: null, ready: true, serving: true, terminating: false }));
  }
  const out: EndpointDraft[] = [];
  for (let i = 0; i < count; i++) {
    const node = random.int(nodeNames.length);
    const host = nextPodHost[node]!++;
    if (host > 65_534) throw new Error(`node ${nodeNames[node]} ran out of pod addresses`);
    // Mostly ready; a few rolling out (terminating but still serving) or not ready yet.
    const roll = random.next();
    const terminating = roll < 0.02;
    const ready = !terminating && roll >= 0.03;
    out.push({
      ip: `10.${128 + node}.${host >>> 8}.${host & 255}`,
      nodeName: nodeNames[node]!,
      podName: `${draft.name}-${hash}-${random.alnum(5)}`,
      podUid: random.uid(),
      zone: ZONES[node % ZONES.length]!,
      ready,
      serving: ready || terminating,
      terminating,
    });
  }
  return out;
}

function sliceObject(draft: ServiceDraft, endpoints: EndpointDraft[], random: Random): object {
  return {
    addressType: 'IPv4',
    apiVersion: 'discovery.k8s.io/v1',
    endpoints: endpoints.map((ep) => ({
      addresses: [ep.ip],
      conditions: { ready: ep.ready, serving: ep.serving, terminating: ep.terminating },
      nodeName: ep.nodeName,
      targetRef: { kind: 'Pod', name: ep.podName, namespace: draft.namespace, uid: ep.podUid },
      ...(ep.zone ? { zone: ep.zone } : {}),
    })),
    kind: 'EndpointSlice',
    metadata: metadata(random, draft.namespace, `${draft.name}-${random.alnum(5)}`, {
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': timestamp(random) },
      generateName: `${draft.name}-`,
      generation: 1 + random.int(20),
      labels: {
        'app.kubernetes.io/name': draft.name,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        'kubernetes.io/service-name': draft.name,
      },
      ownerReferences: [{ apiVersion: 'v1', blockOwnerDeletion: true, controller: true, kind: 'Service', name: draft.name, uid: draft.uid }],
    }),
    ports: draft.ports.map((p) => ({ name: p.name, port: numericTarget(p.targetPort), protocol: p.protocol })),
  };
}

/** The container port a named target port resolves to in the generated pods. */
function numericTarget(target: number | string): number {
  if (typeof target === 'number') return target;
  return target === 'metrics' ? 9102 : 8080;
}

function podObject(draft: ServiceDraft, ep: EndpointDraft, random: Random): object {
  const hash = ep.podName.split('-').at(-2)!;
  const since = timestamp(random);
  const condition = (type: string, status: boolean) => ({ lastProbeTime: null, lastTransitionTime: since, status: status ? 'True' : 'False', type });
  const containerPorts = draft.ports.map((p) => ({
    containerPort: numericTarget(p.targetPort),
    name: typeof p.targetPort === 'string' ? p.targetPort : p.name || 'main',
    protocol: p.protocol,
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: metadata(random, draft.namespace, ep.podName, {
      ...(ep.terminating ? { deletionGracePeriodSeconds: 30, deletionTimestamp: since } : {}),
      generateName: `${draft.name}-${hash}-`,
      labels: { 'app.kubernetes.io/name': draft.name, 'pod-template-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'ReplicaSet', name: `${draft.name}-${hash}`, uid: random.uid() }],
      uid: ep.podUid,
    }),
    spec: {
      containers: [
        {
          image: `registry.example.com/${draft.namespace}/${random.pick(IMAGES)}:1.${random.int(40)}.${random.int(10)}`,
          imagePullPolicy: 'IfNotPresent',
          name: 'main',
          ports: containerPorts,
          resources: { limits: { memory: '512Mi' }, requests: { cpu: '100m', memory: '256Mi' } },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      nodeName: ep.nodeName,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
    },
    status: {
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', true),
        condition('Ready', ep.ready || ep.terminating),
        condition('ContainersReady', ep.ready || ep.terminating),
        condition('PodScheduled', true),
      ],
      hostIP: `172.18.0.${10 + Number(ep.nodeName.slice(5))}`,
      phase: 'Running',
      podIP: ep.ip,
      podIPs: [{ ip: ep.ip }],
      qosClass: 'Burstable',
      startTime: since,
    },
  };
}

// ---------------------------------------------------------------------------
// YAML as kubectl prints it. A small writer rather than js-yaml's dump: the
// 30,000-service cluster is ~100 MB of text and this is several times faster.

const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;
const PLAIN = /^[A-Za-z_][A-Za-z0-9._/-]*(?::[A-Za-z0-9._/-]+)*$/;
const ADDRESS = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:\/\d{1,2})?$/;
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function scalar(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new Error(`cannot write ${typeof value} as a YAML scalar`);
  if ((PLAIN.test(value) && !RESERVED.test(value)) || ADDRESS.test(value) || UID.test(value)) return value;
  return JSON.stringify(value);
}

function isEmpty(value: unknown): string | null {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : null;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length === 0 ? '{}' : null;
  return null;
}

function writeMap(obj: Record<string, unknown>, indent: number, first: string, out: string[]): void {
  const pad = ' '.repeat(indent);
  let lead = first;
  for (const key of Object.keys(obj).sort()) {
    const value = obj[key];
    if (value === undefined) continue;
    const head = `${lead}${scalar(key)}:`;
    lead = pad;
    const empty = isEmpty(value);
    if (empty !== null) out.push(`${head} ${empty}`);
    else if (Array.isArray(value)) {
      out.push(head);
      writeList(value, indent, out);
    } else if (typeof value === 'object' && value !== null) {
      out.push(head);
      writeMap(value as Record<string, unknown>, indent + 2, ' '.repeat(indent + 2), out);
    } else out.push(`${head} ${scalar(value)}`);
  }
}

function writeList(list: unknown[], indent: number, out: string[]): void {
  const dash = `${' '.repeat(indent)}- `;
  for (const item of list) {
    const empty = isEmpty(item);
    if (empty !== null) out.push(`${dash}${empty}`);
    else if (Array.isArray(item)) throw new Error('lists of lists are not written');
    else if (typeof item === 'object' && item !== null) writeMap(item as Record<string, unknown>, indent + 2, dash, out);
    else out.push(`${dash}${scalar(item)}`);
  }
}

/** A List of the objects, 4-space indented with sorted keys, as `kubectl get -o json` prints several objects. */
export function toKubectlJson(objects: object[]): string {
  const sortKeys = (_key: string, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, (value as Record<string, unknown>)[k]]));
  };
  return JSON.stringify({ apiVersion: 'v1', items: objects, kind: 'List', metadata: { resourceVersion: '' } }, sortKeys, 4) + '\n';
}

export function toYaml(obj: object): string {
  const out: string[] = [];
  writeMap(obj as Record<string, unknown>, 0, '', out);
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// Command line

function main(argv: string[]): void {
  const options: ClusterOptions = { servicePorts: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`${flag} needs a number`);
      return v;
    };
    if (flag === '--service-ports') options.servicePorts = value();
    else if (flag === '--endpoints') options.endpointsPerPort = value();
    else if (flag === '--nodes') options.nodes = value();
    else if (flag === '--seed') options.seed = value();
    else if (flag === '--pods') options.endpointSource = 'pods';
    else if (flag === '--json') options.format = 'json';
    else throw new Error(`unknown argument ${flag}; see the header of bench/generate-cluster.ts`);
  }
  const cluster = generateCluster(options);
  process.stdout.write(cluster.text);
  const { node } = cluster;
  process.stderr.write(`${JSON.stringify(cluster.counts)}\nkpc flags: --node-name ${node.name} --node-ip ${node.ip} --cluster-cidr ${node.clusterCIDR}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
