// Real-kernel test harness: a closed world of network namespaces in which
// rules that kpc emits are loaded into a real kernel and real packets are
// sent through them.
//
// Address plan (every address lives in a namespace this file creates; no
// namespace has a link to the root namespace, so no packet can leave):
//
//   client  eth0  192.0.2.100/24  2001:db8::100/64  fe80::2   default via node
//     |  (veth)
//   node    ext0  192.0.2.10/24   2001:db8::10/64   fe80::1   <- the node IP
//           int0  (unnumbered)                      fe80::1   -> remote node
//           svc0  (veth, peer down) routes 10.96.0.0/12, fd00:10:96::/112:
//                 a silent black hole after FORWARD/OUTPUT/POSTROUTING
//           veth-local-N (unnumbered, fe80::1) -> pod local-N
//     |  (veth int0 <-> remote eth0)
//   remote  eth0  192.0.2.11/32   2001:db8::11/128  fe80::2   default via node
//           veth-remote-N (unnumbered, fe80::1) -> pod remote-N
//
//   pods on node:   local-1..3   10.244.1.2-4/32   fd00:10:244:1::2-4/128
//   pods on remote: remote-1..2  10.244.2.2-3/32   fd00:10:244:2::2-3/128
//   every pod: eth0, default via its node's IP (IPv4, onlink) / fe80::1 (IPv6)
//
// Why this shape:
// - Node-side pod veths have no address of their own, so whatever the node
//   masquerades to leaves with the node IP 192.0.2.10 / 2001:db8::10: a
//   backend that reports sawSource = node IP was masqueraded.
// - The remote node and its pods reach the client only through the node
//   (default route via node, client on another link), so replies always pass
//   the node's conntrack and get un-NATed even without masquerade: a backend
//   then reports the client's own address rather than the request timing out.
// - The service CIDR is routed into a dead-end interface, so service traffic that
//   no rule DNATs still traverses FORWARD/OUTPUT (where REJECT rules fire) and
//   is then dropped silently (a timeout), as on a real node.
// - The client has a default route via the node, so node ports, external IPs
//   and load-balancer IPs of any address reach the node's PREROUTING.
import { execa, execaSync } from 'execa';
import { accessSync, constants as fsConstants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export interface WorldOptions {
  dualStack?: boolean;
  /** TCP ports every pod's echo server listens on. */
  tcpPorts?: number[];
  /** UDP ports every pod's echo server listens on. */
  udpPorts?: number[];
}

export interface Host {
  name: string;
  netns: string;
  ips: { 4: string[]; 6: string[] };
}

export interface Pod extends Host {
  nodeName: 'node' | 'remote';
  ip: { 4: string; 6?: string };
}

export type Reply =
  | { ok: true; backend: string; sawSource: string; sawPort: number; port: number; ms: number }
  | { ok: false; error: 'refused' | 'timeout' | 'unreachable' | string; ms: number };

export type RuleBackend = 'iptables' | 'ip6tables' | 'nftables';

export interface Target {
  ip: string;
  port: number;
  proto: 'tcp' | 'udp';
}

export interface RequestOptions {
  /** Per attempt, connect plus answer. Default 1000. */
  timeoutMs?: number;
  /** Attempts, each on a fresh socket. Default 1. */
  count?: number;
  /** Attempts in flight at once. Default 8. */
  concurrency?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface World {
  id: string;
  node: Host;
  remoteNode: Host;
  client: Host;
  pods: Pod[];
  clusterCIDR: { 4: string; 6: string };
  serviceCIDR: { 4: string; 6: string };
  tcpPorts: number[];
  udpPorts: number[];
  loadRules(backend: RuleBackend, text: string, opts?: { noflush?: boolean }): Promise<void>;
  /** Empties the node's whole ruleset (iptables-nft tables included). */
  resetRules(): Promise<void>;
  request(from: Host | Pod, to: Target, opts?: RequestOptions): Promise<Reply[]>;
  exec(host: Host | Pod, argv: string[]): Promise<ExecResult>;
  destroy(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Address plan

const NODE_IP = { 4: '192.0.2.10', 6: '2001:db8::10' } as const;
const REMOTE_IP = { 4: '192.0.2.11', 6: '2001:db8::11' } as const;
const CLIENT_IP = { 4: '192.0.2.100', 6: '2001:db8::100' } as const;
const CLUSTER_CIDR = { 4: '10.244.0.0/16', 6: 'fd00:10:244::/56' } as const;
const SERVICE_CIDR = { 4: '10.96.0.0/12', 6: 'fd00:10:96::/112' } as const;
// Next hops on point-to-point links: the node side is always fe80::1.
const LL_GATEWAY = 'fe80::1';
const LL_PEER = 'fe80::2';

interface PodSpec {
  name: string;
  nodeName: 'node' | 'remote';
  v4: string;
  v6: string;
}

const POD_SPECS: PodSpec[] = [
  { name: 'local-1', nodeName: 'node', v4: '10.244.1.2', v6: 'fd00:10:244:1::2' },
  { name: 'local-2', nodeName: 'node', v4: '10.244.1.3', v6: 'fd00:10:244:1::3' },
  { name: 'local-3', nodeName: 'node', v4: '10.244.1.4', v6: 'fd00:10:244:1::4' },
  { name: 'remote-1', nodeName: 'remote', v4: '10.244.2.2', v6: 'fd00:10:244:2::2' },
  { name: 'remote-2', nodeName: 'remote', v4: '10.244.2.3', v6: 'fd00:10:244:2::3' },
];

const DEFAULT_TCP_PORTS = [80, 443, 8080, 9376];
const DEFAULT_UDP_PORTS = [53, 5353, 9376];

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.mjs', import.meta.url));
const ECHO_CLIENT = fileURLToPath(new URL('./echo-client.mjs', import.meta.url));

// Every namespace is kpc-<pid>-<counter>-<role>; the sweep below relies on it.
const NETNS_PREFIX = 'kpc';
const ROLE_RE = '(?:node|remote|client|probe|local-\\d+|remote-\\d+)';
const OWN_NETNS_RE = new RegExp(`^${NETNS_PREFIX}-(\\d+)-\\d+-${ROLE_RE}$`);

// ---------------------------------------------------------------------------
// Small process helpers

async function run(argv: string[], input?: string): Promise<string> {
  const [cmd, ...args] = argv as [string, ...string[]];
  const result = await execa(cmd, args, { input, reject: false, timeout: 30_000 });
  if (result.exitCode !== 0) {
    const what = result.timedOut ? 'timed out' : `exited ${result.exitCode ?? result.signal}`;
    throw new Error(`${argv.join(' ')} ${what}: ${String(result.stderr || result.stdout).trim()}`);
  }
  return String(result.stdout);
}

/** Runs many `ip` commands in one process; `netns` null means ip's own context. */
function ipBatch(netns: string | null, lines: string[]): Promise<string> {
  const prefix = netns ? ['-n', netns] : [];
  return run(['ip', ...prefix, '-batch', '-'], lines.join('\n') + '\n');
}

function inNetns(netns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', netns, ...argv];
}

function sysctl(netns: string, settings: Record<string, string | number>): Promise<string> {
  const pairs = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  return run(inNetns(netns, ['sysctl', '-q', '-w', ...pairs]));
}

function hasIPv6(): boolean {
  try {
    accessSync('/proc/sys/net/ipv6', fsConstants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(cmd: string): boolean {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, cmd), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------
// Availability and describeKernel

let availability: { ok: true } | { ok: false; why: string } | undefined;

/** Whether this machine can run kernel tests; probes once per process. */
export function kernelTestsAvailable(): { ok: true } | { ok: false; why: string } {
  availability ??= probeAvailability();
  return availability;
}

function probeAvailability(): { ok: true } | { ok: false; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: `platform is ${process.platform}, not linux` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'not running as root (network namespaces need CAP_SYS_ADMIN)' };
  const missing = ['ip', 'iptables-restore', 'ip6tables-restore', 'nft', 'sysctl'].filter((c) => !onPath(c));
  if (missing.length) return { ok: false, why: `missing commands: ${missing.join(', ')}` };
  // Creating a namespace and listing nftables in it proves the kernel and our
  // privileges are enough; containers without CAP_NET_ADMIN fail here.
  const probe = `${NETNS_PREFIX}-${process.pid}-0-probe`;
  try {
    execaSync('ip', ['netns', 'add', probe]);
    execaSync('ip', ['netns', 'exec', probe, 'nft', 'list', 'ruleset']);
    return { ok: true };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, why: `cannot use network namespaces: ${(e.stderr || e.message).trim()}` };
  } finally {
    execaSync('ip', ['netns', 'del', probe], { reject: false });
  }
}

function underCI(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return ci === 'true' || ci === '1';
}

/**
 * describe() for tests that need the real kernel. Off CI an unusable machine
 * skips the suite with the reason printed; under CI it throws, so a CI that
 * silently lost its kernel tests fails instead of passing.
 */
export function describeKernel(name: string, fn: () => void): void {
  const avail = kernelTestsAvailable();
  if (avail.ok) {
    describe(name, fn);
    return;
  }
  if (underCI()) throw new Error(`kernel tests "${name}" cannot run under CI: ${avail.why}`);
  console.warn(`[kernel tests] skipping "${name}": ${avail.why}`);
  describe.skip(name, fn);
}

// ---------------------------------------------------------------------------
// Bookkeeping: what each live world owns, for destroy() and the exit net

interface Owned {
  netns: string[];
  servers: Array<{ pid: number; exited: Promise<unknown> }>;
}

const liveWorlds = new Map<string, Owned>();
let counter = 0;
let exitHookInstalled = false;
let swept = false;

// Last resort when a test forgot destroy() or threw past it: synchronous, so
// it works inside 'exit'. Kills only the servers this process started.
function exitSafetyNet(): void {
  for (const owned of liveWorlds.values()) {
    for (const s of owned.servers) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const input = owned.netns.map((n) => `netns del ${n}`).join('\n') + '\n';
    execaSync('ip', ['-force', '-batch', '-'], { input, reject: false });
  }
  liveWorlds.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', exitSafetyNet);
}

// Namespaces left by a test process that was SIGKILLed (no 'exit' event).
// Only names of our exact shape whose creating pid is gone are removed.
async function sweepStaleNamespaces(): Promise<void> {
  if (swept) return;
  swept = true;
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return;
  }
  const stale = names.filter((n) => {
    const m = OWN_NETNS_RE.exec(n);
    return m !== null && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]));
  });
  if (stale.length) await ipBatch(null, stale.map((n) => `netns del ${n}`)).catch(() => {});
}

// ---------------------------------------------------------------------------
// Topology construction

interface Layout {
  id: string;
  /** Configure IPv6 addresses and routes (dual-stack world). */
  v6: boolean;
  /** The kernel has IPv6: turn off automatic link-locals even when !v6. */
  ipv6Present: boolean;
  ns: { node: string; remote: string; client: string };
  pods: Array<PodSpec & { netns: string; hostIf: string }>;
}

function makeLayout(id: string, v6: boolean, ipv6Present: boolean): Layout {
  const name = (role: string) => `${NETNS_PREFIX}-${id}-${role}`;
  return {
    id,
    v6,
    ipv6Present,
    ns: { node: name('node'), remote: name('remote'), client: name('client') },
    pods: POD_SPECS.map((p) => ({ ...p, netns: name(p.name), hostIf: `veth-${p.name}` })),
  };
}

function allNetns(l: Layout): string[] {
  return [l.ns.node, l.ns.remote, l.ns.client, ...l.pods.map((p) => p.netns)];
}

// Before any interface exists, so new interfaces inherit the defaults.
function routerSysctls(forwarding: boolean, v6: boolean): Record<string, number> {
  const s: Record<string, number> = {
    'net.ipv4.conf.all.rp_filter': 0,
    'net.ipv4.conf.default.rp_filter': 0,
    'net.ipv4.ip_forward': forwarding ? 1 : 0,
  };
  if (v6) {
    Object.assign(s, {
      'net.ipv6.conf.all.accept_dad': 0,
      'net.ipv6.conf.default.accept_dad': 0,
      'net.ipv6.conf.all.forwarding': forwarding ? 1 : 0,
    });
  }
  return s;
}

// Every veth pair is created with both ends placed directly in their target
// namespaces (`link add A netns X type veth peer name B netns Y`), from inside
// the node namespace: no end ever exists in the root namespace.
function linkCreation(l: Layout): string[] {
  const lines = [
    `link add ext0 type veth peer name eth0 netns ${l.ns.client}`,
    `link add int0 type veth peer name eth0 netns ${l.ns.remote}`,
    // A black hole for the service CIDR that still counts as a real output
    // device: the peer stays down, so
    // whatever is routed here after FORWARD/OUTPUT/POSTROUTING is dropped
    // silently. A blackhole route would drop before FORWARD, where kube-proxy's
    // REJECT rules sit.
    'link add svc0 type veth peer name svc0-sink',
    'link set svc0 arp off',
  ];
  for (const p of l.pods) {
    const hostNs = p.nodeName === 'node' ? l.ns.node : l.ns.remote;
    lines.push(`link add ${p.hostIf} netns ${hostNs} type veth peer name eth0 netns ${p.netns}`);
  }
  return lines;
}

// IPv6 link-locals are assigned by hand (addrgenmode none + nodad) so they are
// usable at once and predictable as next hops; IPv4-only worlds get none.
function upLines(l: Layout, ifaces: string[]): string[] {
  const lines = ['link set lo up'];
  for (const i of ifaces) {
    if (l.ipv6Present) lines.push(`link set ${i} addrgenmode none`);
    lines.push(`link set ${i} up`);
  }
  return lines;
}

function nodeConfig(l: Layout): string[] {
  const local = l.pods.filter((p) => p.nodeName === 'node');
  const lines = upLines(l, ['ext0', 'int0', 'svc0', ...local.map((p) => p.hostIf)]);
  lines.push(
    `addr add ${NODE_IP[4]}/24 dev ext0`,
    `route add ${REMOTE_IP[4]}/32 dev int0`,
    `route add 10.244.2.0/24 via ${REMOTE_IP[4]} dev int0`,
    `route add ${SERVICE_CIDR[4]} dev svc0`,
    ...local.map((p) => `route add ${p.v4}/32 dev ${p.hostIf}`),
  );
  if (l.v6) {
    lines.push(
      `addr add ${NODE_IP[6]}/64 dev ext0 nodad`,
      ...['ext0', 'int0', ...local.map((p) => p.hostIf)].map((i) => `addr add ${LL_GATEWAY}/64 dev ${i} nodad`),
      `route add ${REMOTE_IP[6]}/128 via ${LL_PEER} dev int0`,
      `route add fd00:10:244:2::/64 via ${LL_PEER} dev int0`,
      `route add ${SERVICE_CIDR[6]} dev svc0`,
      ...local.map((p) => `route add ${p.v6}/128 dev ${p.hostIf}`),
    );
  }
  return lines;
}

function remoteConfig(l: Layout): string[] {
  const pods = l.pods.filter((p) => p.nodeName === 'remote');
  const lines = upLines(l, ['eth0', ...pods.map((p) => p.hostIf)]);
  lines.push(
    `addr add ${REMOTE_IP[4]}/32 dev eth0`,
    `route add default via ${NODE_IP[4]} dev eth0 onlink`,
    ...pods.map((p) => `route add ${p.v4}/32 dev ${p.hostIf}`),
  );
  if (l.v6) {
    lines.push(
      `addr add ${REMOTE_IP[6]}/128 dev eth0 nodad`,
      `addr add ${LL_PEER}/64 dev eth0 nodad`,
      ...pods.map((p) => `addr add ${LL_GATEWAY}/64 dev ${p.hostIf} nodad`),
      `route add default via ${LL_GATEWAY} dev eth0`,
      ...pods.map((p) => `route add ${p.v6}/128 dev ${p.hostIf}`),
    );
  }
  return lines;
}

function clientConfig(l: Layout): string[] {
  const lines = upLines(l, ['eth0']);
  lines.push(`addr add ${CLIENT_IP[4]}/24 dev eth0`, `route add default via ${NODE_IP[4]} dev eth0`);
  if (l.v6) {
    lines.push(
      `addr add ${CLIENT_IP[6]}/64 dev eth0 nodad`,
      `addr add ${LL_PEER}/64 dev eth0 nodad`,
      `route add default via ${NODE_IP[6]} dev eth0`,
    );
  }
  return lines;
}

function podConfig(l: Layout, p: PodSpec): string[] {
  const gateway = p.nodeName === 'node' ? NODE_IP[4] : REMOTE_IP[4];
  // /32 so the pod never ARPs for its neighbours itself: everything goes via
  // its node, as with most CNI plugins.
  const lines = upLines(l, ['eth0']);
  lines.push(`addr add ${p.v4}/32 dev eth0`, `route add default via ${gateway} dev eth0 onlink`);
  if (l.v6) {
    lines.push(
      `addr add ${p.v6}/128 dev eth0 nodad`,
      `addr add ${LL_PEER}/64 dev eth0 nodad`,
      `route add default via ${LL_GATEWAY} dev eth0`,
    );
  }
  return lines;
}

// Four phases, each as few processes as possible, run in parallel where the
// namespaces are independent.
async function buildTopology(l: Layout): Promise<void> {
  await ipBatch(null, allNetns(l).map((n) => `netns add ${n}`));
  await Promise.all([
    sysctl(l.ns.node, { ...routerSysctls(true, l.ipv6Present), 'net.ipv4.conf.all.route_localnet': 1 }),
    sysctl(l.ns.remote, routerSysctls(true, l.ipv6Present)),
    sysctl(l.ns.client, routerSysctls(false, l.ipv6Present)),
  ]);
  await ipBatch(l.ns.node, linkCreation(l));
  await Promise.all([
    ipBatch(l.ns.node, nodeConfig(l)),
    ipBatch(l.ns.remote, remoteConfig(l)),
    ipBatch(l.ns.client, clientConfig(l)),
    ...l.pods.map((p) => ipBatch(p.netns, podConfig(l, p))),
  ]);
}

@@TAIL@@