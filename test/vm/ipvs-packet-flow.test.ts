/**
 * kpc's IPVS mode proven in a real kernel with IPVS (the qemu VM of
 * test/vm/vm.ts, Debian's 6.1 kernel), with real TCP, UDP and SCTP traffic,
 * over IPv4 and IPv6.
 *
 * On the host, one manifest set holds every scenario's Service (distinct
 * cluster IPs), compiled in-process for node 'node' (192.0.2.10, 192.0.2.20,
 * 2001:db8::10; cluster CIDRs 10.244.0.0/16, fd00:10:244::/56; zone zone-a)
 * with compileGraph + emitIpvsParts. Inside ONE VM boot the script builds the
 * host harness's dual-stack topology (test/kernel/harness.ts):
 *
 *   client  eth0 192.0.2.100/24 2001:db8::100/64 fe80::2, default via node
 *   node    ext0 192.0.2.10/24 (+ 192.0.2.20/24) 2001:db8::10/64 fe80::1;
 *           int0 (unnumbered, fe80::1) -> remote; svc0 black hole for
 *           10.96.0.0/12, fd00:10:96::/112 and the default routes;
 *           veth-local-N (fe80::1) -> local-N
 *   remote  eth0 192.0.2.11/32 2001:db8::11/128 fe80::2, default via node;
 *           veth-remote-N (fe80::1) -> remote-N
 *   local-1..3 10.244.1.2-4/32 fd00:10:244:1::2-4/128, remote-1..2
 *   10.244.2.2-3/32 fd00:10:244:2::2-3/128, default via their node (IPv4
 *   onlink, IPv6 fe80::1); kpc-echo servers: TCP 8080, UDP 5353, SCTP 9000,
 *   answering with their name and the source they saw
 *
 * (IPv6 as the harness does it: no DAD, link-locals by hand, link-local next
 * hops), loads kpc's parts into the node namespace with the loaders they name
 * (ip -force -batch, ipset restore -exist, ipvsadm -R, iptables-restore,
 * ip6tables-restore), with kube-proxy's IPVS sysctls, sends traffic with
 * kpc-echo and prints one "### check NAME" section per check: the reply lines
 * (who answered, which source it saw, which address it was reached on), the
 * elapsed time, and counters before and after: the node's /proc/net/snmp (an
 * IPVS ICMP port-unreachable vs a TCP RST or UDP no-port of the node's own
 * stack) and the source's TcpExt. Then the node's rules are replaced by a
 * second compilation of the same node with node-wide options (masqueradeAll,
 * nodePortAddresses), as kube-proxy restarted with another configuration
 * would, and its checks run. Then every fixture's IPVS output is loaded into
 * a namespace of its own and saved back. The tests below parse those
 * sections. KPC_IPVS_DUMP=FILE writes the VM's whole output there.
 *
 * Skips with a printed reason where no VM can run, except under CI=true,
 * where that is a failure (test/vm/shared-run.ts).
 */
import { writeFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { compileGraph } from '../../src/compile.js';
import { emitIpvsParts, type IpvsPart } from '../../src/emit/ipvs/index.js';
import type { NodeOptions } from '../../src/graph/node-context.js';
import type { KubeProxyConfiguration } from '../../src/model/k8s.js';
import { joinIpvsParts } from '../../src/read/ipvs.js';
import { readRuleSet } from '../../src/read/index.js';
import { compileFixture, fixtureCases } from '../helpers/fixtures.js';
import { plain } from '../helpers/model.js';
import type { Pod } from '../kernel/harness.js';
import { service, slices, toYaml, type EndpointSpec, type PortSpec } from '../kernel/manifests.js';
import { sharedVmRun } from './shared-run.js';
import { parseEchoReplies, runInVm, splitSections, type EchoReply, type RunInVmResult } from './vm.js';

const TAG = '[ipvs-packet-flow]';

// ---------------------------------------------------------------------------
// Address plan: the host harness's (test/kernel/harness.ts), dual-stack, plus
// a second IPv4 node address (nodePortAddresses picks one of the two).

const NODE_IP = '192.0.2.10';
const NODE_IP2 = '192.0.2.20';
const NODE_IP6 = '2001:db8::10';
const REMOTE_IP = '192.0.2.11';
const REMOTE_IP6 = '2001:db8::11';
const CLIENT_IP = '192.0.2.100';
const CLIENT_IP6 = '2001:db8::100';
const CLUSTER_CIDR = '10.244.0.0/16';
const CLUSTER_CIDR6 = 'fd00:10:244::/56';
const SERVICE_CIDR = '10.96.0.0/12';
const SERVICE_CIDR6 = 'fd00:10:96::/112';
const LL_GATEWAY = 'fe80::1';
const LL_PEER = 'fe80::2';
const ZONE = 'zone-a';

const PODS: Pod[] = [
  ['local-1', 'node', '10.244.1.2', 'fd00:10:244:1::2'],
  ['local-2', 'node', '10.244.1.3', 'fd00:10:244:1::3'],
  ['local-3', 'node', '10.244.1.4', 'fd00:10:244:1::4'],
  ['remote-1', 'remote', '10.244.2.2', 'fd00:10:244:2::2'],
  ['remote-2', 'remote', '10.244.2.3', 'fd00:10:244:2::3'],
].map(([name, nodeName, ip4, ip6]) => ({ name: name!, netns: name!, nodeName: nodeName as Pod['nodeName'], ips: { 4: [ip4!], 6: [ip6!] }, ip: { 4: ip4!, 6: ip6! } }));
const pod = (name: string): Pod => PODS.find((p) => p.name === name)!;
const POD_BY_IP = new Map(PODS.flatMap((p) => [[p.ip[4], p.name], [p.ip[6]!, p.name]]));
const ALL = (...names: string[]) => names.map((n) => ({ pod: pod(n) }));

const TCP_PORT = 8080;
const UDP_PORT = 5353;
const SCTP_PORT = 9000;

// ---------------------------------------------------------------------------
// Manifests: every scenario's Service in one set, one load serves all checks.

const HTTP: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT }];
const DNS: PortSpec[] = [{ name: 'dns', port: 53, targetPort: UDP_PORT, protocol: 'UDP' }];
const NP: PortSpec[] = [
  { name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30080 },
  { name: 'dns', port: 53, targetPort: UDP_PORT, nodePort: 30053, protocol: 'UDP' },
];
const EMPTY: PortSpec[] = [
  { name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30081 },
  { name: 'dns', port: 53, targetPort: UDP_PORT, nodePort: 30054, protocol: 'UDP' },
];
const LOCAL_NP: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30082 }];
const NOLOCAL_NP: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30083 }];
const OPEN_LB: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30084 }];
const CLOSED_LB: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30085 }];
const ANY_LB: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30089 }];
const HALF_LB: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30091 }];
const V6: PortSpec[] = [
  { name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30086 },
  { name: 'dns', port: 53, targetPort: UDP_PORT, nodePort: 30056, protocol: 'UDP' },
];
const ITP_NP: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30088 }];
const LIMITED_NP: PortSpec[] = [{ name: 'http', port: 80, targetPort: TCP_PORT, nodePort: 30087 }];
const SCTP: PortSpec[] = [{ name: 'sctp', port: 9000, targetPort: SCTP_PORT, nodePort: 30090, protocol: 'SCTP' }];

function annotated(obj: object, annotations: Record<string, string>): object {
  const o = obj as { metadata: Record<string, unknown> };
  return { ...o, metadata: { ...o.metadata, annotations } };
}

const SH = { 'kpc.dev/ipvs-scheduler': 'sh' };
const FOUR = ['local-1', 'local-2', 'remote-1', 'remote-2'];

/** Endpoint conditions of the terminating-fallback service: no endpoint is ready. */
const DRAINING: EndpointSpec[] = [
  { pod: pod('local-1'), ready: false, serving: true, terminating: true },
  { pod: pod('local-2'), ready: false, serving: false, terminating: true },
  { pod: pod('remote-1'), ready: false, serving: false, terminating: false },
];

function scenarioObjects(): object[] {
  return [
    service('web', { clusterIPs: ['10.96.0.10'], ports: HTTP }),
    ...slices('web', HTTP, ALL('local-1', 'local-2', 'remote-1')),
    service('dns', { clusterIPs: ['10.96.0.53'], ports: DNS }),
    ...slices('dns', DNS, ALL('local-1', 'remote-2')),
    service('np', { type: 'NodePort', clusterIPs: ['10.96.0.11'], ports: NP, externalIPs: ['198.51.100.7'] }),
    ...slices('np', NP, ALL('local-1', 'remote-1')),
    service('self', { clusterIPs: ['10.96.0.12'], ports: HTTP }),
    ...slices('self', HTTP, ALL('local-1')),
    service('empty', { type: 'NodePort', clusterIPs: ['10.96.0.13'], ports: EMPTY }),
    service('sticky', { clusterIPs: ['10.96.0.14'], ports: HTTP, sessionAffinity: 'ClientIP' }),
    ...slices('sticky', HTTP, ALL(...FOUR)),
    service('local', { type: 'NodePort', clusterIPs: ['10.96.0.16'], ports: LOCAL_NP, externalTrafficPolicy: 'Local' }),
    ...slices('local', LOCAL_NP, ALL('local-1', 'remote-1')),
    service('nolocal', { type: 'NodePort', clusterIPs: ['10.96.0.17'], ports: NOLOCAL_NP, externalTrafficPolicy: 'Local' }),
    ...slices('nolocal', NOLOCAL_NP, ALL('remote-2')),
    service('far', { clusterIPs: ['10.96.0.15'], ports: HTTP }),
    ...slices('far', HTTP, ALL('remote-1')),
    // internalTrafficPolicy Local: a local endpoint; none local; none local on a node-port service.
    service('near', { clusterIPs: ['10.96.0.18'], ports: HTTP, internalTrafficPolicy: 'Local' }),
    ...slices('near', HTTP, ALL('local-1', 'remote-1')),
    service('away', { clusterIPs: ['10.96.0.19'], ports: HTTP, internalTrafficPolicy: 'Local' }),
    ...slices('away', HTTP, ALL('remote-1')),
    service('itp-np', { type: 'NodePort', clusterIPs: ['10.96.0.28'], ports: ITP_NP, internalTrafficPolicy: 'Local' }),
    ...slices('itp-np', ITP_NP, ALL('remote-1')),
    service('drain', { clusterIPs: ['10.96.0.20'], ports: HTTP }),
    ...slices('drain', HTTP, DRAINING),
    service('open', { type: 'LoadBalancer', clusterIPs: ['10.96.0.21'], ports: OPEN_LB, loadBalancerIPs: ['198.51.100.10'], loadBalancerSourceRanges: [`${CLIENT_IP}/32`] }),
    ...slices('open', OPEN_LB, ALL('remote-1')),
    service('closed', { type: 'LoadBalancer', clusterIPs: ['10.96.0.22'], ports: CLOSED_LB, loadBalancerIPs: ['198.51.100.11'], loadBalancerSourceRanges: ['203.0.113.0/24'] }),
    ...slices('closed', CLOSED_LB, ALL('remote-1')),
    // Prefix length 0 lets any source in (no firewall), per family; ipset refuses a /0 entry.
    service('anywhere', { type: 'LoadBalancer', clusterIPs: ['10.96.0.29', 'fd00:10:96::29'], ports: ANY_LB, loadBalancerIPs: ['198.51.100.12', '2001:db8:51::12'], loadBalancerSourceRanges: ['0.0.0.0/0', '::/0'] }),
    ...slices('anywhere', ANY_LB, ALL('remote-1'), [4, 6]),
    service('half', { type: 'LoadBalancer', clusterIPs: ['10.96.0.32', 'fd00:10:96::32'], ports: HALF_LB, loadBalancerIPs: ['198.51.100.13', '2001:db8:51::13'], loadBalancerSourceRanges: ['::/0', '203.0.113.0/24'] }),
    ...slices('half', HALF_LB, ALL('remote-1'), [4, 6]),
    service('v6', { type: 'NodePort', clusterIPs: ['10.96.0.23', 'fd00:10:96::23'], ports: V6 }),
    ...slices('v6', V6, ALL('local-1', 'remote-1'), [4, 6]),
    service('zonal', { clusterIPs: ['10.96.0.24'], ports: HTTP, trafficDistribution: 'PreferClose' }),
    ...slices('zonal', HTTP, [{ pod: pod('local-1'), zone: ZONE }, { pod: pod('remote-1'), zone: 'zone-b' }]),
    service('legacy', { clusterIPs: ['10.96.0.25'], ports: HTTP, topologyKeys: ['kubernetes.io/hostname', '*'] }),
    ...slices('legacy', HTTP, ALL('local-2', 'remote-2')),
    annotated(service('hashed', { clusterIPs: ['10.96.0.30'], ports: HTTP }), SH),
    ...slices('hashed', HTTP, ALL(...FOUR)),
    service('spread', { clusterIPs: ['10.96.0.31'], ports: HTTP }),
    ...slices('spread', HTTP, ALL(...FOUR)),
    service('sctp', { type: 'NodePort', clusterIPs: ['10.96.0.40'], ports: SCTP }),
    ...slices('sctp', SCTP, ALL('local-1', 'remote-1')),
  ];
}

/** The second load: node-wide options, so they get a compilation (and rules) of their own. */
function variantObjects(): object[] {
  return [
    service('masq', { clusterIPs: ['10.96.0.26'], ports: HTTP }),
    ...slices('masq', HTTP, ALL('local-2', 'remote-1')),
    service('limited', { type: 'NodePort', clusterIPs: ['10.96.0.27'], ports: LIMITED_NP }),
    ...slices('limited', LIMITED_NP, ALL('remote-1')),
  ];
}

/** nodePortAddresses of the variant: holds 192.0.2.10, not 192.0.2.20. */
const NODE_PORT_CIDR = '192.0.2.0/28';

const NODE: NodeOptions = {
  nodeName: 'node',
  nodeIPs: [NODE_IP, NODE_IP2, NODE_IP6],
  clusterCIDRs: [CLUSTER_CIDR, CLUSTER_CIDR6],
  zone: ZONE,
};

function compile(objects: object[], options: NodeOptions): IpvsPart[] {
  const { graph } = compileGraph([{ name: 'ipvs-scenarios.yaml', text: toYaml(objects) }], options);
  return emitIpvsParts(graph);
}

function compileScenarios(): IpvsPart[] {
  return compile(scenarioObjects(), NODE);
}

function compileVariant(): IpvsPart[] {
  const config = { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', nodePortAddresses: [NODE_PORT_CIDR] } as KubeProxyConfiguration;
  return compile(variantObjects(), { ...NODE, masqueradeAll: true, config });
}

// ---------------------------------------------------------------------------
// Checks: kpc-echo client runs in the source namespace (`from`), each request on a new socket.

type Check = { name: string; from: string; proto: 'tcp' | 'udp' | 'sctp'; host: string; port: number; count: number; wait?: number };

// Not remote-2: sh hashes it onto itself, and in this topology the remote
// node has no rules of its own, so the DNATed packet returns to remote-2 with
// its own address as source and is dropped there as martian (a real remote
// node would hairpin it with its own kube-proxy).
const SH_SOURCES = ['local-1', 'local-2', 'local-3', 'remote-1', 'client'];

const CHECKS: Check[] = [
  { name: 'web-from-pod', from: 'local-3', proto: 'tcp', host: '10.96.0.10', port: 80, count: 30 },
  { name: 'web-from-node', from: 'node', proto: 'tcp', host: '10.96.0.10', port: 80, count: 9 },
  { name: 'dns-udp', from: 'local-2', proto: 'udp', host: '10.96.0.53', port: 53, count: 20 },
  { name: 'np-tcp', from: 'client', proto: 'tcp', host: NODE_IP, port: 30080, count: 20 },
  { name: 'np-udp', from: 'client', proto: 'udp', host: NODE_IP, port: 30053, count: 20 },
  { name: 'np-second-ip', from: 'client', proto: 'tcp', host: NODE_IP2, port: 30080, count: 6 },
  { name: 'external-ip', from: 'client', proto: 'tcp', host: '198.51.100.7', port: 80, count: 20 },
  { name: 'hairpin', from: 'local-1', proto: 'tcp', host: '10.96.0.12', port: 80, count: 5 },
  { name: 'empty-tcp-pod', from: 'local-1', proto: 'tcp', host: '10.96.0.13', port: 80, count: 3, wait: 3 },
  { name: 'empty-tcp-node', from: 'node', proto: 'tcp', host: '10.96.0.13', port: 80, count: 3, wait: 3 },
  { name: 'empty-tcp-nodeport', from: 'client', proto: 'tcp', host: NODE_IP, port: 30081, count: 3, wait: 3 },
  { name: 'empty-udp-pod', from: 'local-1', proto: 'udp', host: '10.96.0.13', port: 53, count: 3, wait: 3 },
  { name: 'empty-udp-nodeport', from: 'client', proto: 'udp', host: NODE_IP, port: 30054, count: 3, wait: 3 },
  { name: 'sticky-pod', from: 'local-3', proto: 'tcp', host: '10.96.0.14', port: 80, count: 20 },
  { name: 'sticky-client', from: 'client', proto: 'tcp', host: '10.96.0.14', port: 80, count: 20 },
  { name: 'etp-local', from: 'client', proto: 'tcp', host: NODE_IP, port: 30082, count: 10 },
  { name: 'etp-nolocal-client', from: 'client', proto: 'tcp', host: NODE_IP, port: 30083, count: 5 },
  { name: 'etp-nolocal-pod', from: 'local-3', proto: 'tcp', host: NODE_IP, port: 30083, count: 5 },
  { name: 'far-client', from: 'client', proto: 'tcp', host: '10.96.0.15', port: 80, count: 3 },
  { name: 'far-pod', from: 'local-2', proto: 'tcp', host: '10.96.0.15', port: 80, count: 3 },
  { name: 'itp-near-pod', from: 'local-3', proto: 'tcp', host: '10.96.0.18', port: 80, count: 10 },
  { name: 'itp-near-node', from: 'node', proto: 'tcp', host: '10.96.0.18', port: 80, count: 5 },
  { name: 'itp-away-pod', from: 'local-3', proto: 'tcp', host: '10.96.0.19', port: 80, count: 3, wait: 3 },
  { name: 'itp-nodeport-fallback', from: 'local-3', proto: 'tcp', host: '10.96.0.28', port: 80, count: 5 },
  { name: 'drain', from: 'local-3', proto: 'tcp', host: '10.96.0.20', port: 80, count: 10 },
  { name: 'lb-allowed', from: 'client', proto: 'tcp', host: '198.51.100.10', port: 80, count: 6 },
  { name: 'lb-denied-pod', from: 'local-3', proto: 'tcp', host: '198.51.100.10', port: 80, count: 2, wait: 1 },
  { name: 'lb-denied-client', from: 'client', proto: 'tcp', host: '198.51.100.11', port: 80, count: 2, wait: 1 },
  { name: 'lb-nodeport-unfiltered', from: 'client', proto: 'tcp', host: NODE_IP, port: 30085, count: 3 },
  { name: 'lb-any-client', from: 'client', proto: 'tcp', host: '198.51.100.12', port: 80, count: 4 },
  { name: 'lb-any-pod', from: 'local-3', proto: 'tcp', host: '198.51.100.12', port: 80, count: 4 },
  { name: 'lb-any-client-v6', from: 'client', proto: 'tcp', host: '2001:db8:51::12', port: 80, count: 4 },
  { name: 'lb-half-v4-denied', from: 'client', proto: 'tcp', host: '198.51.100.13', port: 80, count: 2, wait: 1 },
  { name: 'lb-half-v6-open', from: 'client', proto: 'tcp', host: '2001:db8:51::13', port: 80, count: 4 },
  { name: 'zonal', from: 'local-3', proto: 'tcp', host: '10.96.0.24', port: 80, count: 10 },
  { name: 'legacy', from: 'local-3', proto: 'tcp', host: '10.96.0.25', port: 80, count: 10 },
  { name: 'v6-pod-tcp', from: 'local-3', proto: 'tcp', host: 'fd00:10:96::23', port: 80, count: 12 },
  { name: 'v6-pod-udp', from: 'local-2', proto: 'udp', host: 'fd00:10:96::23', port: 53, count: 12 },
  { name: 'v6-nodeport', from: 'client', proto: 'tcp', host: NODE_IP6, port: 30086, count: 12 },
  { name: 'v6-nodeport-udp', from: 'client', proto: 'udp', host: NODE_IP6, port: 30056, count: 12 },
  { name: 'v6-v4-cluster-ip', from: 'local-3', proto: 'tcp', host: '10.96.0.23', port: 80, count: 8 },
  ...SH_SOURCES.map((from): Check => ({ name: `sh-${from}`, from, proto: 'tcp', host: '10.96.0.30', port: 80, count: 12 })),
  { name: 'rr-spread', from: 'local-3', proto: 'tcp', host: '10.96.0.31', port: 80, count: 24 },
];

const REJECT_REFERENCE: Check = { name: 'reject-reference', from: 'local-1', proto: 'tcp', host: '10.96.0.99', port: 80, count: 3, wait: 3 };

const SCTP_CHECKS: Check[] = [
  { name: 'sctp-pod', from: 'local-3', proto: 'sctp', host: '10.96.0.40', port: 9000, count: 10 },
  { name: 'sctp-nodeport', from: 'client', proto: 'sctp', host: NODE_IP, port: 30090, count: 10 },
];

/** After the variant replaced the rules (masqueradeAll, nodePortAddresses 192.0.2.0/28). */
const VARIANT_CHECKS: Check[] = [
  { name: 'masq-all-pod', from: 'local-1', proto: 'tcp', host: '10.96.0.26', port: 80, count: 10 },
  { name: 'npa-listed', from: 'client', proto: 'tcp', host: NODE_IP, port: 30087, count: 5 },
  { name: 'npa-unlisted', from: 'client', proto: 'tcp', host: NODE_IP2, port: 30087, count: 3, wait: 2 },
];

// ---------------------------------------------------------------------------
// The VM script (bash: $EPOCHREALTIME for timings).

function ipBatch(lines: string[]): string {
  return lines.join('\n') + '\n';
}

/**
 * The host harness's topology as ip -batch files, dual-stack as there:
 * interfaces get no automatic link-local (addrgenmode none), addresses skip
 * DAD (nodad), IPv6 next hops are the link-locals fe80::1 (node side) and
 * fe80::2.
 */
function topologyFiles(): Record<string, string> {
  const local = PODS.filter((p) => p.nodeName === 'node');
  const remote = PODS.filter((p) => p.nodeName === 'remote');
  const links = [
    'link add ext0 type veth peer name eth0 netns client',
    'link add int0 type veth peer name eth0 netns remote',
    // The service CIDR's dead end (peer down): unmatched service traffic still passes FORWARD/OUTPUT.
    'link add svc0 type veth peer name svc0-sink',
    'link set svc0 arp off',
    ...PODS.map((p) => `link add veth-${p.name} netns ${p.nodeName} type veth peer name eth0 netns ${p.name}`),
  ];
  const up = (ifs: string[]) => ['link set lo up', ...ifs.flatMap((i) => [`link set ${i} addrgenmode none`, `link set ${i} up`])];
  const node = [
    ...up(['ext0', 'int0', 'svc0', ...local.map((p) => `veth-${p.name}`)]),
    `addr add ${NODE_IP}/24 dev ext0`,
    `addr add ${NODE_IP2}/24 dev ext0`,
    `route add ${REMOTE_IP}/32 dev int0`,
    `route add 10.244.2.0/24 via ${REMOTE_IP} dev int0`,
    `route add ${SERVICE_CIDR} dev svc0`,
    // A real node has a default route: traffic to unknown addresses reaches FORWARD.
    'route add default dev svc0',
    ...local.map((p) => `route add ${p.ip[4]}/32 dev veth-${p.name}`),
    `addr add ${NODE_IP6}/64 dev ext0 nodad`,
    ...['ext0', 'int0', ...local.map((p) => `veth-${p.name}`)].map((i) => `addr add ${LL_GATEWAY}/64 dev ${i} nodad`),
    `route add ${REMOTE_IP6}/128 via ${LL_PEER} dev int0`,
    `route add fd00:10:244:2::/64 via ${LL_PEER} dev int0`,
    `route add ${SERVICE_CIDR6} dev svc0`,
    'route add ::/0 dev svc0',
    ...local.map((p) => `route add ${p.ip[6]}/128 dev veth-${p.name}`),
  ];
  const remoteNode = [
    ...up(['eth0', ...remote.map((p) => `veth-${p.name}`)]),
    `addr add ${REMOTE_IP}/32 dev eth0`,
    `route add default via ${NODE_IP} dev eth0 onlink`,
    ...remote.map((p) => `route add ${p.ip[4]}/32 dev veth-${p.name}`),
    `addr add ${REMOTE_IP6}/128 dev eth0 nodad`,
    `addr add ${LL_PEER}/64 dev eth0 nodad`,
    ...remote.map((p) => `addr add ${LL_GATEWAY}/64 dev veth-${p.name} nodad`),
    `route add ::/0 via ${LL_GATEWAY} dev eth0`,
    ...remote.map((p) => `route add ${p.ip[6]}/128 dev veth-${p.name}`),
  ];
  const client = [
    ...up(['eth0']),
    `addr add ${CLIENT_IP}/24 dev eth0`,
    `route add default via ${NODE_IP} dev eth0`,
    `addr add ${CLIENT_IP6}/64 dev eth0 nodad`,
    `addr add ${LL_PEER}/64 dev eth0 nodad`,
    `route add ::/0 via ${NODE_IP6} dev eth0`,
  ];
  const files: Record<string, string> = {
    'topo/links.ip': ipBatch(links),
    'topo/node.ip': ipBatch(node),
    'topo/remote.ip': ipBatch(remoteNode),
    'topo/client.ip': ipBatch(client),
  };
  for (const p of PODS) {
    const gw = p.nodeName === 'node' ? NODE_IP : REMOTE_IP;
    files[`topo/${p.name}.ip`] = ipBatch([
      ...up(['eth0']),
      `addr add ${p.ip[4]}/32 dev eth0`,
      `route add default via ${gw} dev eth0 onlink`,
      `addr add ${p.ip[6]}/128 dev eth0 nodad`,
      `addr add ${LL_PEER}/64 dev eth0 nodad`,
      `route add ::/0 via ${LL_GATEWAY} dev eth0`,
    ]);
  }
  return files;
}

function checkLine(c: Check): string {
  return `check ${c.name} ${c.from} ${c.proto} ${c.host} ${c.port} ${c.count} ${c.wait ?? 2}`;
}

/**
 * The fixture parts loaded in the VM. The iptables parts need no IPVS: the
 * host's kernel tests (test/kernel/load-fixtures.test.ts) check them with
 * iptables-restore --test, and here they would cost ~2 s each under TCG.
 */
const VM_FIXTURE_PARTS: IpvsPart['name'][] = ['kube-ipvs0', 'ipset', 'ipvsadm'];

/** Sources whose TCP counters (TcpExt in /proc/net/netstat) the refused checks report. */
const WATCHED = ['node', 'local-1', 'client'];

/**
 * Loads every fixture's parts, one fixture after the other, into one fresh
 * network namespace (run under unshare -n), saves back what the kernel holds,
 * and empties it again for the next fixture.
 */
const FIXTURE_LOADER = `#!/bin/bash
for name in "$@"; do
  for part in kube-ipvs0 ipset ipvsadm; do
    echo "### fx-load $name $part"
    case $part in
      kube-ipvs0) ip -force -batch - ;;
      ipset) ipset restore -exist ;;
      ipvsadm) ipvsadm -R ;;
    esac < fx/$name/$part 2>&1
    echo "rc=$?"
  done
  echo "### fx-ipvs-save $name"
  ipvsadm -Sn
  echo "### fx-ipset-save $name"
  ipset save
  echo "### fx-kube-ipvs0 $name"
  ip -o addr show dev kube-ipvs0
  ipvsadm -C && ipset destroy && ip link del kube-ipvs0 || echo "### fx-cleanup-failed $name"
done
`;

function script(parts: IpvsPart[], fixtureNames: string[]): string {
  return `#!/bin/bash
set -u
PODS="${PODS.map((p) => p.name).join(' ')}"

phase() { echo "### phase $1"; echo "uptime=$(cut -d' ' -f1 /proc/uptime)"; }
phase start
echo "### modules"
modprobe ip_vs && echo "ip_vs=ok"
for s in rr sh; do modprobe ip_vs_$s && echo "ip_vs_$s=ok"; done
modprobe sctp 2>/dev/null
kpc-echo probe-sctp
SCTP=no
kpc-echo probe-sctp | grep -q sctp=yes && SCTP=yes

# The host harness's topology (test/kernel/harness.ts), dual-stack.
for ns in node remote client $PODS; do ip netns add $ns; done
# As kube-proxy's IPVS mode has them (net.ipv4.vs.* exist once ip_vs is loaded),
# plus the host harness's: no rp_filter, no ICMP rate limit.
# IPv6 as there too: no DAD (interfaces made later inherit the defaults).
common="net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.icmp_ratelimit=0
  net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.icmp.ratelimit=0"
ip netns exec node sysctl -qw $common net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \\
  net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1
ip netns exec remote sysctl -qw $common net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec client sysctl -qw $common
ip -n node -batch topo/links.ip || echo "TOPOLOGY FAILED: links"
for ns in node remote client $PODS; do ip -n $ns -batch topo/$ns.ip || echo "TOPOLOGY FAILED: $ns"; done

phase servers
echo "### servers"
for p in $PODS; do
  sctp_opt=; [ $SCTP = yes ] && sctp_opt="-s ${SCTP_PORT}"
  ip netns exec $p kpc-echo server -n $p -t ${TCP_PORT} -u ${UDP_PORT} $sctp_opt -D && echo "server $p=ok"
done

phase load
load() { # section-prefix dir: every part in dir, with the loader it names
  local part
  for part in ${parts.map((p) => p.name).join(' ')}; do
    echo "### $1 $part"
    case $part in
      kube-ipvs0) ip -n node -force -batch - ;;
      ipset) ip netns exec node ipset restore -exist ;;
      ipvsadm) ip netns exec node ipvsadm -R ;;
      iptables) ip netns exec node iptables-restore ;;
      ip6tables) ip netns exec node ip6tables-restore ;;
    esac < $2/$part 2>&1
    echo "rc=$?"
  done
}
load load parts

# Counters of a namespace, read through a process living there (bash
# builtins only: no netns switch per read): the node's /proc/net/snmp
# (who answered: ICMP errors sent, TCP RSTs, UDP datagrams to no socket) and
# the source's TcpExt (ICMP errors its TCP dropped while the socket was busy).
declare -A PID
for ns in ${WATCHED.join(' ')}; do ip netns exec $ns sleep 100000 & PID[$ns]=$!; done
counters() { # tag source-ns
  local line
  while IFS= read -r line; do
    case $line in Icmp:*|Tcp:*|Udp:*) echo "node-$1 $line" ;; esac
  done < /proc/\${PID[node]}/net/snmp
  [ -n "\${PID[$2]:-}" ] || return 0
  while IFS= read -r line; do
    case $line in TcpExt:*) echo "src-$1 $line" ;; esac
  done < /proc/\${PID[$2]}/net/netstat
}
check() { # name from proto host port count wait
  echo "### check $1"
  counters before $2
  local t0=\${EPOCHREALTIME/./}
  ip netns exec $2 kpc-echo client -p $3 -w $7 -c $6 -m $1 $4 $5
  local t1=\${EPOCHREALTIME/./}
  echo "elapsed_us=$((t1 - t0))"
  counters after $2
}
phase checks
${CHECKS.map(checkLine).join('\n')}
if [ $SCTP = yes ]; then
${SCTP_CHECKS.map((c) => `  ${checkLine(c)}`).join('\n')}
fi
# Reference for the refused checks: a plain iptables REJECT in the same
# kernel, same source (10.96.0.99 is routed into the black hole, via FORWARD).
ip netns exec node iptables -I FORWARD 1 -d 10.96.0.99/32 -p tcp -j REJECT
${checkLine(REJECT_REFERENCE)}
ip netns exec node iptables -D FORWARD 1

phase saves
saves() { # section-prefix
  echo "### $1ipvs-list"
  ip netns exec node ipvsadm -Ln --nosort
  echo "### $1ipvs-save"
  ip netns exec node ipvsadm -Sn
  echo "### $1ipset-save"
  ip netns exec node ipset save
  echo "### $1iptables-save"
  ip netns exec node iptables-save
  echo "### $1ip6tables-save"
  ip netns exec node ip6tables-save
  echo "### $1kube-ipvs0"
  ip -n node -o addr show dev kube-ipvs0
}
saves ""
# Who dropped the denied load-balancer sources: the source-ranges firewall.
echo "### firewall"
ip netns exec node iptables -t filter -L KUBE-SOURCE-RANGES-FIREWALL -vnx

phase variant
# The same node with node-wide options changed (masqueradeAll,
# nodePortAddresses): its compilation replaces every rule, as a restarted
# kube-proxy would. iptables-restore replaces whole tables, ipset restore
# flushes every set it creates; virtual servers and kube-ipvs0 go first.
ip netns exec node ipvsadm -C
ip -n node link del kube-ipvs0
load load-variant variant
${VARIANT_CHECKS.map(checkLine).join('\n')}
saves variant-

phase fixtures
# Every fixture's IPVS output, loaded and saved back in a namespace of its own.
unshare -n bash fx/load.sh ${fixtureNames.join(' ')}
phase end
kill \${PID[@]}
echo "### end"
`;
}

// ---------------------------------------------------------------------------
// Parsing

interface CheckResult {
  name: string;
  replies: EchoReply[];
  ok: EchoReply[];
  errors: EchoReply[];
  elapsedMs: number;
  /** Counter deltas in the node namespace, e.g. 'Icmp.OutDestUnreachs', 'Tcp.OutRsts', 'Udp.NoPorts'. */
  delta: Record<string, number>;
  /** TcpExt counter deltas in the source namespace (node, local-1, client only), e.g. 'TcpExt.LockDroppedIcmps'. */
  srcDelta: Record<string, number>;
  raw: string;
}

function parseSnmp(text: string, tag: string): Record<string, number> {
  const rows = text.split('\n').filter((l) => l.startsWith(`${tag} `)).map((l) => l.slice(tag.length + 1).trim().split(/\s+/));
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < rows.length; i += 2) {
    const [head, values] = [rows[i]!, rows[i + 1]!];
    const proto = head[0]!.replace(/:$/, '');
    head.slice(1).forEach((k, j) => (out[`${proto}.${k}`] = Number(values[j + 1])));
  }
  return out;
}

/**
 * kpc-echo client lines: replies via parseEchoReplies, and ERROR lines, whose
 * err= is strerror() text with spaces ("Connection refused").
 */
function parseReplies(text: string): EchoReply[] {
  const out: EchoReply[] = [];
  for (const line of text.split('\n')) {
    const m = /^ERROR proto=(\S+) dst=(\S+) err=(.*)$/.exec(line.trim());
    if (m) out.push({ name: 'ERROR', fields: { proto: m[1]!, dst: m[2]!, err: m[3]! } });
    else out.push(...parseEchoReplies(line));
  }
  return out;
}

function parseCheck(name: string, raw: string | undefined): CheckResult | undefined {
  if (raw === undefined) return undefined;
  const replies = parseReplies(raw);
  const diff = (tag: string) => {
    const before = parseSnmp(raw, `${tag}-before`);
    const after = parseSnmp(raw, `${tag}-after`);
    const out: Record<string, number> = {};
    for (const k of Object.keys(after)) out[k] = after[k]! - (before[k] ?? 0);
    return out;
  };
  const us = /elapsed_us=(\d+)/.exec(raw);
  return {
    name,
    replies,
    ok: replies.filter((r) => r.name !== 'ERROR'),
    errors: replies.filter((r) => r.name === 'ERROR'),
    elapsedMs: us ? Number(us[1]) / 1000 : NaN,
    delta: diff('node'),
    srcDelta: diff('src'),
    raw,
  };
}

const backends = (r: CheckResult) => [...new Set(r.ok.map((x) => x.name))].sort();
/** Addresses the backends saw the requests come from (IPv6 without brackets). */
const sources = (r: CheckResult) => [...new Set(r.ok.map((x) => x.fields.peer!.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')))].sort();

/** A TCP connect that got no answer: SO_SNDTIMEO ends connect() with EINPROGRESS, recv() with EAGAIN. */
function isTimeout(err: string): boolean {
  return err === 'timeout' || err === 'Operation now in progress';
}

/** Rules of `iptables -L CHAIN -vnx`: packet counter and target, in order. */
function chainCounters(listing: string): { packets: number; target: string }[] {
  return listing
    .split('\n')
    .map((l) => /^\s*(\d+)\s+\d+\s+(\S+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ packets: Number(m[1]), target: m[2]! }));
}

/** Real servers of a virtual service in the kernel's list order, from `ipvsadm -Ln --nosort`. */
function realServerOrder(list: string, vip: string): string[] {
  const lines = list.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^(TCP|UDP|SCTP)\\s+${vip.replace(/\./g, '\\.')}\\s`).test(l));
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    const m = /^\s+->\s+(\S+):\d+\s/.exec(l);
    if (!m) break;
    out.push(POD_BY_IP.get(m[1]!) ?? m[1]!);
  }
  return out;
}

/**
 * The real server IPVS's sh scheduler picks for a source (net/netfilter/ipvs/
 * ip_vs_sh.c, no sh-port flag, all weights 1): bucket hash_32(ntohl(saddr), 8)
 * of 256, buckets filled in turn from the service's destination list.
 */
function shPick(source: string, order: string[]): string {
  const n = source.split('.').reduce((a, o) => (a * 256 + Number(o)) >>> 0, 0);
  const bucket = (Math.imul(n, 0x61c88647) >>> 0) >>> 24;
  return order[bucket % order.length]!;
}

function normalizeIpvsadm(line: string): string {
  return line.trim().replace(/\s+/g, ' ');
}

// ---------------------------------------------------------------------------
// The run

interface Run {
  result: RunInVmResult;
  sections: Record<string, string>;
  parts: IpvsPart[];
  variant: IpvsPart[];
  fixtures: { name: string; parts: IpvsPart[] }[];
  sctp: boolean;
  check(name: string): CheckResult;
  context: string;
}


async function bootAndRun(): Promise<Run> {
  const parts = compileScenarios();
  const variant = compileVariant();
  const fixtures = [];
  for (const fixture of fixtureCases()) fixtures.push({ name: fixture.name, parts: emitIpvsParts(await compileFixture(fixture)) });
  const files: Record<string, string> = { ...topologyFiles(), 'fx/load.sh': FIXTURE_LOADER };
  for (const p of parts) files[`parts/${p.name}`] = p.text;
  for (const p of variant) files[`variant/${p.name}`] = p.text;
  for (const f of fixtures) for (const p of f.parts) if (VM_FIXTURE_PARTS.includes(p.name)) files[`fx/${f.name}/${p.name}`] = p.text;
  const t0 = Date.now();
  const result = await runInVm({ script: script(parts, fixtures.map((f) => f.name)), files, timeoutMs: 240_000 });
  const sections = splitSections(result.stdout);
  console.log(
    `${TAG} kernel ${result.kernelVersion}: boot ${result.bootMs} ms (guest uptime ${result.guestBootSeconds} s at /init), ` +
      `whole VM run ${result.totalMs} ms (${Date.now() - t0} ms with image setup), exit ${result.exitCode}`,
  );
  const phases = Object.entries(sections)
    .filter(([k]) => k.startsWith('phase '))
    .map(([k, v]) => [k.slice(6), Number(/uptime=([\d.]+)/.exec(v)?.[1])] as const);
  console.log(`${TAG} guest phases (uptime, s): ${phases.map(([k, t]) => `${k} ${t}`).join(', ')}`);
  if (process.env.KPC_IPVS_DUMP) await writeFile(process.env.KPC_IPVS_DUMP, `${result.stdout}\n--- stderr ---\n${result.stderr}`);
  const context = `exit ${result.exitCode}\n--- stdout ---\n${result.stdout.slice(-20000)}\n--- stderr ---\n${result.stderr.slice(-5000)}`;
  const cache = new Map<string, CheckResult>();
  return {
    result,
    sections,
    parts,
    variant,
    fixtures,
    sctp: /sctp=yes/.test(sections.modules ?? ''),
    context,
    check(name) {
      let r = cache.get(name);
      if (!r) {
        r = parseCheck(name, sections[`check ${name}`]);
        if (!r) throw new Error(`no output for check ${name}\n${context}`);
        cache.set(name, r);
      }
      return r;
    },
  };
}

function show(r: CheckResult): string {
  return `${r.name}: ${r.elapsedMs.toFixed(0)} ms\n${r.raw}`;
}

const need = sharedVmRun(TAG, bootAndRun, 540_000);

describe('IPVS mode in a real kernel (qemu VM): kpc output with real traffic', () => {

  test('every part loads with the loader it names (ip -batch, ipset restore, ipvsadm -R, iptables-restore)', (ctx) => {
    const r = need(ctx);
    expect(r.result.exitCode, r.context).toBe(0);
    expect(Object.keys(r.sections), r.context).toContain('end');
    expect(r.result.stdout, r.context).not.toMatch(/TOPOLOGY FAILED/);
    expect(r.sections.servers!.match(/=ok/g), r.context).toHaveLength(PODS.length);
    const names = ['kube-ipvs0', 'ipset', 'ipvsadm', 'iptables', 'ip6tables'];
    expect(r.parts.map((p) => p.name)).toEqual(names);
    expect(r.variant.map((p) => p.name)).toEqual(names);
    for (const name of names) {
      expect(r.sections[`load ${name}`], `${name}\n${r.context}`).toBe('rc=0\n');
      expect(r.sections[`load-variant ${name}`], `variant ${name}\n${r.context}`).toBe('rc=0\n');
    }
    // Round trip: the kernel holds exactly the virtual and real servers kpc
    // wrote, both times (the variant replaced every one of the first load's).
    for (const [parts, prefix] of [[r.parts, ''], [r.variant, 'variant-']] as const) {
      const emitted = parts.find((p) => p.name === 'ipvsadm')!.text.split('\n').filter(Boolean).map(normalizeIpvsadm).sort();
      const saved = r.sections[`${prefix}ipvs-save`]!.split('\n').filter((l) => l.startsWith('-')).map(normalizeIpvsadm).sort();
      expect(saved, prefix || 'first load').toEqual(emitted);
      const addresses = parts.find((p) => p.name === 'kube-ipvs0')!.text.split('\n').filter((l) => l.startsWith('address add ')).map((l) => l.split(' ')[2]!).sort();
      const bound = [...(r.sections[`${prefix}kube-ipvs0`] ?? '').matchAll(/inet6? (\S+)/g)].map((m) => m[1]!).sort();
      expect(bound, prefix || 'first load').toEqual(addresses);
    }
  });

  test('a cluster IP reaches every endpoint and only those, over TCP (from a pod and from the node) and UDP', (ctx) => {
    const r = need(ctx);
    const fromPod = r.check('web-from-pod');
    expect(fromPod.errors, show(fromPod)).toEqual([]);
    expect(fromPod.ok).toHaveLength(30);
    expect(backends(fromPod)).toEqual(['local-1', 'local-2', 'remote-1']);
    // IPVS DNAT to the endpoint's own address and port; pod sources are not masqueraded.
    for (const x of fromPod.ok) expect(x.fields.local).toBe(`${pod(x.name).ip[4]}:${TCP_PORT}`);
    expect(sources(fromPod)).toEqual([pod('local-3').ip[4]]);

    const fromNode = r.check('web-from-node');
    expect(fromNode.errors, show(fromNode)).toEqual([]);
    expect(backends(fromNode)).toEqual(['local-1', 'local-2', 'remote-1']);

    const udp = r.check('dns-udp');
    expect(udp.errors, show(udp)).toEqual([]);
    expect(udp.ok).toHaveLength(20);
    expect(backends(udp)).toEqual(['local-1', 'remote-2']);
    for (const x of udp.ok) {
      expect(x.fields.proto).toBe('udp');
      expect(x.fields.local).toBe(`${pod(x.name).ip[4]}:${UDP_PORT}`);
    }
    expect(sources(udp)).toEqual([pod('local-2').ip[4]]);
  });

  test('a node port (TCP and UDP) and an external IP from the outside client reach the endpoints, masqueraded to the node IP', (ctx) => {
    const r = need(ctx);
    for (const name of ['np-tcp', 'np-udp', 'external-ip']) {
      const c = r.check(name);
      expect(c.errors, show(c)).toEqual([]);
      expect(c.ok, show(c)).toHaveLength(20);
      expect(backends(c), show(c)).toEqual(['local-1', 'remote-1']);
      expect(sources(c), show(c)).toEqual([NODE_IP]);
    }
  });

  test('traffic from outside the cluster CIDR to a cluster IP is masqueraded, pod traffic is not', (ctx) => {
    const r = need(ctx);
    const client = r.check('far-client');
    expect(client.errors, show(client)).toEqual([]);
    expect(sources(client)).toEqual([NODE_IP]);
    const fromPod = r.check('far-pod');
    expect(fromPod.errors, show(fromPod)).toEqual([]);
    expect(sources(fromPod)).toEqual([pod('local-2').ip[4]]);
  });

  test('externalTrafficPolicy Local: a node port from outside reaches only local endpoints, with the client source kept', (ctx) => {
    const r = need(ctx);
    const c = r.check('etp-local');
    expect(c.errors, show(c)).toEqual([]);
    expect(c.ok).toHaveLength(10);
    expect(backends(c)).toEqual(['local-1']);
    expect(sources(c)).toEqual([CLIENT_IP]);
  });

  test('a pod reaching itself through its service works (hairpin, masqueraded by KUBE-LOOP-BACK)', (ctx) => {
    const r = need(ctx);
    const c = r.check('hairpin');
    expect(c.errors, show(c)).toEqual([]);
    expect(backends(c)).toEqual(['local-1']);
    expect(sources(c)).toEqual([NODE_IP]);
  });

  test('a service port with no endpoints is refused fast, over TCP and UDP, by IPVS itself (ICMP port unreachable)', (ctx) => {
    const r = need(ctx);
    const names = ['empty-tcp-pod', 'empty-tcp-node', 'empty-tcp-nodeport', 'empty-udp-pod', 'empty-udp-nodeport', 'reject-reference'];
    const line = (c: CheckResult) =>
      `${c.name}: ${c.errors.map((e) => e.fields.err).join(', ') || 'answered'} in ${c.elapsedMs.toFixed(0)} ms; node sent ` +
      `ICMP dest-unreachable ${c.delta['Icmp.OutDestUnreachs']}, TCP RST ${c.delta['Tcp.OutRsts']}, UDP no-port ${c.delta['Udp.NoPorts']}` +
      (c.srcDelta['TcpExt.LockDroppedIcmps'] !== undefined ? `; source TCP dropped ${c.srcDelta['TcpExt.LockDroppedIcmps']} ICMP errors (socket busy)` : '');
    console.log(`${TAG} no endpoints:\n  ${names.map((n) => line(r.check(n))).join('\n  ')}`);
    for (const name of names.slice(0, 5)) {
      const c = r.check(name);
      expect(c.ok, show(c)).toEqual([]);
      expect(c.errors.map((e) => e.fields.err), show(c)).toEqual(['Connection refused', 'Connection refused', 'Connection refused']);
      // Who refused: IPVS answers an unschedulable connection with ICMP port
      // unreachable (ip_vs_leave), before the node's TCP/UDP stack sees it.
      expect(c.delta['Icmp.OutDestUnreachs'], show(c)).toBeGreaterThanOrEqual(3);
      expect(c.delta['Tcp.OutRsts'] ?? 0, show(c)).toBe(0);
      expect(c.delta['Udp.NoPorts'] ?? 0, show(c)).toBe(0);
      // Fast. UDP: at once. TCP: each attempt refused at once or after one
      // SYN retransmission (initial RTO 1 s), never held to the client's 3 s
      // timeout. Whether an attempt needs the retransmission is a race: the
      // source's TCP drops the ICMP error when veth delivers it while
      // connect() still holds the socket (TcpExt.LockDroppedIcmps, on this
      // 1-CPU 6.1 VM), and a plain iptables REJECT (reject-reference, logged
      // above) loses the same race as often. So the bound is per attempt, not
      // against the reference: a CI run had 3 of 3 attempts retransmitted
      // (3.2 s) against the reference's 2 of 3 (2.1 s).
      if (c.name.includes('udp')) expect(c.elapsedMs, show(c)).toBeLessThan(1500);
      else expect(c.elapsedMs / 3, show(c)).toBeLessThan(1500);
    }
  });

  test('ClientIP session affinity (ipvsadm -p) keeps each client on one endpoint', (ctx) => {
    const r = need(ctx);
    for (const name of ['sticky-pod', 'sticky-client']) {
      const c = r.check(name);
      expect(c.errors, show(c)).toEqual([]);
      expect(c.ok).toHaveLength(20);
      expect(backends(c), show(c)).toHaveLength(1);
    }
    expect(r.sections['ipvs-save']).toMatch(/-A -t 10\.96\.0\.14:80 -s rr -p 10800/);
  });

  test('rr scheduler: connections go to the real servers in turn, evenly', (ctx) => {
    const r = need(ctx);
    const c = r.check('rr-spread');
    expect(c.errors, show(c)).toEqual([]);
    const order = realServerOrder(r.sections['ipvs-list']!, '10.96.0.31:80');
    expect([...order].sort()).toEqual([...FOUR].sort());
    // A fresh rr service starts at the head of its list and takes each real server in turn.
    const seen = c.ok.map((x) => x.name);
    expect(seen, `list order ${order.join(' ')}`).toEqual(Array.from({ length: 24 }, (_, i) => order[i % order.length]));
    for (const name of FOUR) expect(seen.filter((s) => s === name)).toHaveLength(6);
    console.log(`${TAG} rr: 24 connections, 6 to each of ${order.join(', ')}, in list order`);
  });

  test('sh scheduler (kpc.dev/ipvs-scheduler: sh): each source always reaches the one real server its hash picks', (ctx) => {
    const r = need(ctx);
    expect(r.sections['ipvs-save']).toMatch(/-A -t 10\.96\.0\.30:80 -s sh\b/);
    const order = realServerOrder(r.sections['ipvs-list']!, '10.96.0.30:80');
    expect([...order].sort()).toEqual([...FOUR].sort());
    const picks: string[] = [];
    for (const from of SH_SOURCES) {
      const c = r.check(`sh-${from}`);
      expect(c.errors, show(c)).toEqual([]);
      expect(c.ok).toHaveLength(12);
      const ip = from === 'client' ? CLIENT_IP : pod(from).ip[4];
      expect(backends(c), `${from} (${ip})\n${show(c)}`).toEqual([shPick(ip, order)]);
      picks.push(`${from}->${backends(c)[0]}`);
    }
    // Not one server for everyone: different sources land on different servers.
    expect(new Set(picks.map((p) => p.split('->')[1])).size).toBeGreaterThan(1);
    console.log(`${TAG} sh: ${picks.join(', ')} (12 connections each, as ip_vs_sh's hash predicts)`);
  });

  test('SCTP through IPVS: cluster IP from a pod and node port from the client (masqueraded)', (ctx) => {
    const r = need(ctx);
    if (!r.sctp) {
      const why = `the VM kernel has no SCTP sockets (${r.sections.modules?.trim()})`;
      console.warn(`${TAG} SKIP SCTP: ${why}`);
      ctx.skip(why);
    }
    const inside = r.check('sctp-pod');
    expect(inside.errors, show(inside)).toEqual([]);
    expect(inside.ok).toHaveLength(10);
    expect(backends(inside)).toEqual(['local-1', 'remote-1']);
    for (const x of inside.ok) expect(x.fields.proto).toBe('sctp');
    expect(sources(inside)).toEqual([pod('local-3').ip[4]]);
    const outside = r.check('sctp-nodeport');
    expect(outside.errors, show(outside)).toEqual([]);
    expect(backends(outside)).toEqual(['local-1', 'remote-1']);
    expect(sources(outside)).toEqual([NODE_IP]);
  });

  test('internalTrafficPolicy Local: the cluster IP reaches local endpoints only; none local is refused by IPVS (no real servers)', (ctx) => {
    const r = need(ctx);
    for (const name of ['itp-near-pod', 'itp-near-node']) {
      const c = r.check(name);
      expect(c.errors, show(c)).toEqual([]);
      expect(backends(c), show(c)).toEqual(['local-1']);
    }
    expect(sources(r.check('itp-near-pod'))).toEqual([pod('local-3').ip[4]]);
    // None local on a ClusterIP service: kube-proxy's IPVS mode keeps the
    // virtual server with no real servers, so IPVS itself refuses (ICMP port
    // unreachable), where iptables and nftables modes drop.
    expect(realServerOrder(r.sections['ipvs-list']!, '10.96.0.19:80')).toEqual([]);
    expect(r.sections['ipvs-save']).toMatch(/^-A -t 10\.96\.0\.19:80 -s rr$/m);
    const away = r.check('itp-away-pod');
    expect(away.ok, show(away)).toEqual([]);
    expect(away.errors.map((e) => e.fields.err), show(away)).toEqual(['Connection refused', 'Connection refused', 'Connection refused']);
    expect(away.delta['Icmp.OutDestUnreachs'], show(away)).toBeGreaterThanOrEqual(3);
    expect(away.delta['Tcp.OutRsts'] ?? 0, show(away)).toBe(0);
    // None local on a node-port service (externalTrafficPolicy Cluster): the
    // cluster endpoints exist for the node port, and kube-proxy's IPVS mode
    // falls back to them for the cluster IP too (kubernetes#97081).
    const fallback = r.check('itp-nodeport-fallback');
    expect(fallback.errors, show(fallback)).toEqual([]);
    expect(backends(fallback), show(fallback)).toEqual(['remote-1']);
    console.log(`${TAG} internalTrafficPolicy Local: local-1 only; none local: ${away.errors.length} refused by IPVS in ${away.elapsedMs.toFixed(0)} ms; node-port service falls back to remote-1`);
  });

  test('externalTrafficPolicy Local with no local endpoint: kube-proxy\'s IPVS mode falls back to every endpoint (pods and outside, unmasqueraded)', (ctx) => {
    const r = need(ctx);
    expect(realServerOrder(r.sections['ipvs-list']!, `${NODE_IP}:30083`)).toEqual(['remote-2']);
    const fromPod = r.check('etp-nolocal-pod');
    expect(fromPod.errors, show(fromPod)).toEqual([]);
    expect(backends(fromPod)).toEqual(['remote-2']);
    expect(sources(fromPod)).toEqual([pod('local-3').ip[4]]);
    // Forwarded with the client's address: on a real network the reply (from
    // the pod's address) goes its own way and is lost; here the remote node
    // routes it back through this node, which un-NATs it.
    const outside = r.check('etp-nolocal-client');
    expect(outside.errors, show(outside)).toEqual([]);
    expect(backends(outside)).toEqual(['remote-2']);
    expect(sources(outside)).toEqual([CLIENT_IP]);
  });

  test('terminating fallback: with no ready endpoint, the serving terminating one is the only real server', (ctx) => {
    const r = need(ctx);
    expect(realServerOrder(r.sections['ipvs-list']!, '10.96.0.20:80')).toEqual(['local-1']);
    const c = r.check('drain');
    expect(c.errors, show(c)).toEqual([]);
    expect(c.ok).toHaveLength(10);
    expect(backends(c)).toEqual(['local-1']);
  });

  test('loadBalancerSourceRanges: a listed source reaches the load-balancer IP (masqueraded), others are dropped by KUBE-SOURCE-RANGES-FIREWALL', (ctx) => {
    const r = need(ctx);
    const allowed = r.check('lb-allowed');
    expect(allowed.errors, show(allowed)).toEqual([]);
    expect(allowed.ok).toHaveLength(6);
    expect(backends(allowed)).toEqual(['remote-1']);
    expect(sources(allowed)).toEqual([NODE_IP]);
    for (const name of ['lb-denied-pod', 'lb-denied-client']) {
      const c = r.check(name);
      expect(c.ok, show(c)).toEqual([]);
      expect(c.errors.map((e) => isTimeout(e.fields.err!)), show(c)).toEqual([true, true]);
      // Dropped, not refused: the node answered nothing.
      expect(c.delta['Icmp.OutDestUnreachs'] ?? 0, show(c)).toBe(0);
      expect(c.delta['Tcp.OutRsts'] ?? 0, show(c)).toBe(0);
    }
    const firewall = chainCounters(r.sections.firewall ?? '');
    expect(firewall.find((x) => x.target === 'RETURN')?.packets, r.sections.firewall).toBeGreaterThanOrEqual(6);
    // At least one SYN per denied attempt (4), each retransmission counted too.
    expect(firewall.find((x) => x.target === 'DROP')?.packets, r.sections.firewall).toBeGreaterThanOrEqual(4);
    // The firewall is for the load-balancer IP only: the same service's node port is open (as in kube-proxy).
    const nodePort = r.check('lb-nodeport-unfiltered');
    expect(nodePort.errors, show(nodePort)).toEqual([]);
    expect(backends(nodePort)).toEqual(['remote-1']);
    console.log(`${TAG} loadBalancerSourceRanges: KUBE-SOURCE-RANGES-FIREWALL ${firewall.map((x) => `${x.target} ${x.packets} packets`).join(', ')}`);
  });

  test('loadBalancerSourceRanges 0.0.0.0/0 and ::/0: any source reaches the load-balancer IP in each family (no /0 in an ipset); a /0 of one family leaves the other family\'s ranges in force', (ctx) => {
    const r = need(ctx);
    // What kpc wrote for them: no source-range entry and no FW entry for an open family.
    const ipset = r.parts.find((p) => p.name === 'ipset')!.text;
    expect(ipset).not.toMatch(/\/0$/m);
    expect(ipset.split('\n').filter((l) => /^add KUBE-(6-)?LOAD-BALANCER-FW /.test(l) && /198\.51\.100\.1[23],|2001:db8:51::1[23],/.test(l))).toEqual(['add KUBE-LOAD-BALANCER-FW 198.51.100.13,tcp:80']);
    for (const name of ['lb-any-client', 'lb-any-pod', 'lb-any-client-v6', 'lb-half-v6-open']) {
      const c = r.check(name);
      expect(c.errors, show(c)).toEqual([]);
      expect(c.ok, show(c)).toHaveLength(4);
      expect(backends(c), show(c)).toEqual(['remote-1']);
    }
    // externalTrafficPolicy Cluster: masqueraded, as with any load-balancer IP.
    expect(sources(r.check('lb-any-client'))).toEqual([NODE_IP]);
    const denied = r.check('lb-half-v4-denied');
    expect(denied.ok, show(denied)).toEqual([]);
    expect(denied.errors.map((e) => isTimeout(e.fields.err!)), show(denied)).toEqual([true, true]);
  });

  test('kpc diff --live in IPVS mode: what the kernel holds (ipvsadm -Sn, ipset save, iptables-save, ip6tables-save) reads back to the model of what kpc wrote', (ctx) => {
    const r = need(ctx);
    const document = (parts: IpvsPart[]) => parts.map((p) => `### BEGIN ${p.name} (${p.loader})\n${p.text}### END ${p.name}\n`).join('');
    for (const [prefix, parts] of [['', r.parts], ['variant-', r.variant]] as const) {
      const live = joinIpvsParts({
        ipvsadm: r.sections[`${prefix}ipvs-save`] ?? '',
        ipset: r.sections[`${prefix}ipset-save`] ?? '',
        iptables: r.sections[`${prefix}iptables-save`] ?? '',
        ip6tables: r.sections[`${prefix}ip6tables-save`] ?? '',
      });
      const written = readRuleSet(document(parts));
      const read = readRuleSet(live);
      expect(read.foreign, prefix).toEqual([]);
      expect(plain(read), prefix).toEqual(plain(written));
      // Not vacuous: masquerade and source ranges were read from the kernel's dumps.
      const frontends = [...read.frontends.values()];
      expect(frontends.filter((f) => f.masquerade === 'unknown')).toEqual([]);
      if (!prefix) expect(frontends.filter((f) => f.sourceRanges !== null).length, prefix).toBeGreaterThanOrEqual(3);
    }
  });

  test('topology: PreferClose zone hints keep traffic in this node\'s zone; legacy topologyKeys keep it on this node', (ctx) => {
    const r = need(ctx);
    expect(realServerOrder(r.sections['ipvs-list']!, '10.96.0.24:80')).toEqual(['local-1']);
    const zonal = r.check('zonal');
    expect(zonal.errors, show(zonal)).toEqual([]);
    expect(zonal.ok).toHaveLength(10);
    expect(backends(zonal)).toEqual(['local-1']);
    expect(realServerOrder(r.sections['ipvs-list']!, '10.96.0.25:80')).toEqual(['local-2']);
    const legacy = r.check('legacy');
    expect(legacy.errors, show(legacy)).toEqual([]);
    expect(legacy.ok).toHaveLength(10);
    expect(backends(legacy)).toEqual(['local-2']);
  });

  test('IPv6 (dual stack): the IPv6 cluster IP (TCP, UDP) and node port reach the endpoints over IPv6; the IPv4 cluster IP too', (ctx) => {
    const r = need(ctx);
    expect(r.sections['ipvs-save']).toMatch(/^-A -t \[fd00:10:96::23\]:80 -s rr$/m);
    expect(r.sections['ipvs-save']).toMatch(/^-A -t \[2001:db8::10\]:30086 -s rr$/m);
    const tcp = r.check('v6-pod-tcp');
    expect(tcp.errors, show(tcp)).toEqual([]);
    expect(tcp.ok).toHaveLength(12);
    expect(backends(tcp)).toEqual(['local-1', 'remote-1']);
    for (const x of tcp.ok) expect(x.fields.local).toBe(`[${pod(x.name).ip[6]}]:${TCP_PORT}`);
    expect(sources(tcp)).toEqual([pod('local-3').ip[6]]);
    const udp = r.check('v6-pod-udp');
    expect(udp.errors, show(udp)).toEqual([]);
    expect(udp.ok).toHaveLength(12);
    expect(backends(udp)).toEqual(['local-1', 'remote-1']);
    expect(sources(udp)).toEqual([pod('local-2').ip[6]]);
    // From outside, masqueraded: the backends see one address of the node,
    // never the client's. Which one is the kernel's IPv6 source selection
    // (RFC 6724): the node's links to the pods are unnumbered (link-local
    // only, as in the host harness), so the outgoing interface offers no
    // global address and the longest matching prefix wins among all the
    // node's addresses, which here include the service addresses on
    // kube-ipvs0 (iptables and nftables modes have no kube-ipvs0, so there it
    // is 2001:db8::10).
    const nodeOwned = [NODE_IP6, ...[...(r.sections['kube-ipvs0'] ?? '').matchAll(/inet6 ([0-9a-f:]+)\//g)].map((m) => m[1]!)];
    const masqueradedTo = new Set<string>();
    for (const name of ['v6-nodeport', 'v6-nodeport-udp']) {
      const c = r.check(name);
      expect(c.errors, show(c)).toEqual([]);
      expect(c.ok).toHaveLength(12);
      expect(backends(c), show(c)).toEqual(['local-1', 'remote-1']);
      expect(sources(c), show(c)).toHaveLength(1);
      expect(nodeOwned, show(c)).toContain(sources(c)[0]);
      expect(sources(c), show(c)).not.toContain(CLIENT_IP6);
      masqueradedTo.add(sources(c)[0]!);
    }
    const v4 = r.check('v6-v4-cluster-ip');
    expect(v4.errors, show(v4)).toEqual([]);
    expect(backends(v4)).toEqual(['local-1', 'remote-1']);
    console.log(`${TAG} IPv6: cluster IP fd00:10:96::23 (TCP, UDP) from pods unmasqueraded; node port [${NODE_IP6}]:30086 (TCP, UDP) from the client masqueraded to ${[...masqueradedTo].join(', ')}`);
  });

  test('masqueradeAll (second load): pod traffic to a cluster IP is masqueraded to the node IP', (ctx) => {
    const r = need(ctx);
    const c = r.check('masq-all-pod');
    expect(c.errors, show(c)).toEqual([]);
    expect(c.ok).toHaveLength(10);
    expect(backends(c)).toEqual(['local-2', 'remote-1']);
    expect(sources(c)).toEqual([NODE_IP]);
    // The first load (no masqueradeAll) left pod sources alone.
    expect(sources(r.check('web-from-pod'))).toEqual([pod('local-3').ip[4]]);
  });

  test('nodePortAddresses: node-port virtual servers only on the node addresses listed (192.0.2.0/28), every node address without it', (ctx) => {
    const r = need(ctx);
    // First load, no nodePortAddresses: a virtual server on each node address of the family.
    for (const address of [`${NODE_IP}:30080`, `${NODE_IP2}:30080`]) expect(r.sections['ipvs-save']).toContain(`-A -t ${address} -s rr`);
    const second = r.check('np-second-ip');
    expect(second.errors, show(second)).toEqual([]);
    expect(backends(second)).toEqual(['local-1', 'remote-1']);
    expect(sources(second)).toEqual([NODE_IP]);
    // Second load: only 192.0.2.10.
    const servers = (r.sections['variant-ipvs-save'] ?? '').split('\n').filter((l) => /^-A -t \S+:30087 /.test(l)).map((l) => l.split(' ')[2]);
    expect(servers).toEqual([`${NODE_IP}:30087`]);
    const listed = r.check('npa-listed');
    expect(listed.errors, show(listed)).toEqual([]);
    expect(backends(listed)).toEqual(['remote-1']);
    // The unlisted address has no virtual server: the node's own TCP stack answers with a RST.
    const unlisted = r.check('npa-unlisted');
    expect(unlisted.ok, show(unlisted)).toEqual([]);
    expect(unlisted.errors.map((e) => e.fields.err), show(unlisted)).toEqual(['Connection refused', 'Connection refused', 'Connection refused']);
    expect(unlisted.delta['Tcp.OutRsts'], show(unlisted)).toBeGreaterThanOrEqual(3);
    expect(unlisted.delta['Icmp.OutDestUnreachs'] ?? 0, show(unlisted)).toBe(0);
  });

  test('every fixture: ip -batch, ipset restore, ipvsadm -R and iptables-restore accept the IPVS output, and the kernel holds what kpc wrote', (ctx) => {
    const r = need(ctx);
    expect(r.fixtures.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const f of r.fixtures) {
      for (const p of f.parts.filter((x) => VM_FIXTURE_PARTS.includes(x.name))) {
        const out = r.sections[`fx-load ${f.name} ${p.name}`];
        if (out !== 'rc=0\n') problems.push(`${f.name} ${p.name} (${p.loader}): ${out ?? 'no output'}`);
      }
      const emittedIpvs = f.parts.find((p) => p.name === 'ipvsadm')!.text.split('\n').filter(Boolean).map(normalizeIpvsadm).sort();
      const savedIpvs = (r.sections[`fx-ipvs-save ${f.name}`] ?? '').split('\n').filter((l) => l.startsWith('-')).map(normalizeIpvsadm).sort();
      if (JSON.stringify(savedIpvs) !== JSON.stringify(emittedIpvs)) {
        problems.push(`${f.name}: ipvsadm -Sn differs\n  emitted: ${emittedIpvs.join('\n           ')}\n  saved:   ${savedIpvs.join('\n           ')}`);
      }
      const emittedSets = f.parts.find((p) => p.name === 'ipset')!.text.split('\n').filter((l) => l.startsWith('add ')).sort();
      const savedSets = (r.sections[`fx-ipset-save ${f.name}`] ?? '').split('\n').filter((l) => l.startsWith('add ')).sort();
      if (JSON.stringify(savedSets) !== JSON.stringify(emittedSets)) {
        problems.push(`${f.name}: ipset save differs\n  emitted: ${emittedSets.join('\n           ')}\n  saved:   ${savedSets.join('\n           ')}`);
      }
      const emittedAddrs = f.parts.find((p) => p.name === 'kube-ipvs0')!.text.split('\n').filter((l) => l.startsWith('address add ')).map((l) => l.split(' ')[2]!).sort();
      const savedAddrs = [...(r.sections[`fx-kube-ipvs0 ${f.name}`] ?? '').matchAll(/inet6? (\S+)/g)].map((m) => m[1]!).sort();
      if (JSON.stringify(savedAddrs) !== JSON.stringify(emittedAddrs)) {
        problems.push(`${f.name}: kube-ipvs0 addresses differ: emitted ${emittedAddrs.join(' ')}, kernel ${savedAddrs.join(' ')}`);
      }
    }
    expect(Object.keys(r.sections).filter((k) => k.startsWith('fx-cleanup-failed'))).toEqual([]);
    expect(problems, problems.join('\n')).toEqual([]);
    console.log(`${TAG} fixtures: ${r.fixtures.length} loaded and saved back identical (${r.fixtures.map((f) => f.name).join(', ')})`);
  });
});
