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
//   and load-balancer IPs of any address reach the node's PREROUTING. The
//   node itself has no default route (an unknown, un-DNATed destination gets
//   ICMP net unreachable); `ip route add default dev svc0` via exec() turns
//   that into a real node's silent drop after FORWARD.
// - ICMP rate limits are off in the node and remote namespaces, so every
//   attempt of a burst against a REJECT rule is refused, not just the first 6.
// - Over IPv6 a REJECTed TCP SYN is refused only after ~1 s; see
//   RequestOptions.timeoutMs.
import { execa, execaSync } from 'execa';
import { accessSync, constants as fsConstants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export interface WorldOptions {
  dualStack?: boolean;
  /** TCP ports every pod's echo server listens on. */
  tcpPorts?: number[];
  /** UDP ports every pod's echo server listens on. */
  udpPorts?: number[];
  /**
   * Other IPv4 addresses for pods, by name (local-1..3 inside 10.244.1.0/24,
   * remote-1..2 inside 10.244.2.0/24, which the node routes to the remote
   * node): a simulated cluster's pods are created where --simulate put them.
   */
  podIPv4?: Record<string, string>;
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
  /**
   * Per attempt, connect plus answer. Default 1500 ms, not 1000: over IPv6 a
   * REJECT (ICMPv6 port unreachable) of a TCP SYN shows as 'refused' only
   * after ~1 s. On veth the whole forward-reject-deliver chain runs inside
   * the connect() syscall, while the socket is locked, so the kernel drops
   * the first ICMPv6 error (TcpExtLockDroppedIcmps) and only the retransmitted
   * SYN's error aborts the connection. IPv4 and UDP are refused at once.
   */
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
  /** The pod called `name` (local-1..3, remote-1..2); throws if none. */
  pod(name: string): Pod;
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

/** See RequestOptions.timeoutMs for why not 1000. */
export const DEFAULT_TIMEOUT_MS = 1500;
const DEFAULT_TCP_PORTS = [80, 443, 8080, 9376];
const DEFAULT_UDP_PORTS = [53, 5353, 9376];

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.mjs', import.meta.url));
const ECHO_CLIENT = fileURLToPath(new URL('./echo-client.mjs', import.meta.url));

// Every namespace is kpc-<pid>-<counter>-<role>; the sweep below relies on it
// and matches exactly these roles, so it never takes a name someone else
// chose. (The availability probe deletes its own namespace synchronously.)
const NETNS_PREFIX = 'kpc';
const ROLE_RE = `(?:node|remote|client|${POD_SPECS.map((p) => p.name).join('|')})`;
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
  // An explicit opt-out for a developer's machine; under CI it still fails.
  if (process.env.KPC_KERNEL_TESTS === 'off') return { ok: false, why: 'disabled by KPC_KERNEL_TESTS=off' };
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

/** What describeKernel does with a suite; separate so it can be tested. */
export function kernelSuitePlan(
  avail: { ok: true } | { ok: false; why: string },
  ci: boolean,
): 'run' | 'skip' | 'fail' {
  if (avail.ok) return 'run';
  return ci ? 'fail' : 'skip';
}

/**
 * describe() for tests that need the real kernel. Off CI an unusable machine
 * skips the suite with the reason printed; under CI (CI=true) it throws, so a
 * CI that silently lost its kernel tests fails instead of passing.
 */
export function describeKernel(name: string, fn: () => void): void {
  const avail = kernelTestsAvailable();
  const why = avail.ok ? '' : avail.why;
  switch (kernelSuitePlan(avail, underCI())) {
    case 'run':
      describe(name, fn);
      return;
    case 'fail':
      throw new Error(`kernel tests "${name}" cannot run under CI: ${why}`);
    case 'skip':
      console.warn(`[kernel tests] skipping "${name}": ${why}`);
      describe.skip(name, fn);
  }
}

// ---------------------------------------------------------------------------
// Bookkeeping: what each live world owns, for destroy() and the exit net

interface Owned {
  netns: string[];
  /** Every process started in the world's namespaces, by PID. */
  processes: Array<{ pid: number; exited: Promise<unknown> }>;
  destroyed: boolean;
}

const liveWorlds = new Map<string, Owned>();
let counter = 0;
let exitHookInstalled = false;
let swept = false;

// Last resort when a test forgot destroy() or threw past it: synchronous, so
// it works inside 'exit'. Kills only the processes this process started.
function exitSafetyNet(): void {
  for (const owned of liveWorlds.values()) {
    for (const p of owned.processes) killQuietly(p.pid, 'SIGKILL');
    const input = owned.netns.map((n) => `netns del ${n}`).join('\n') + '\n';
    execaSync('ip', ['-force', '-batch', '-'], { input, reject: false });
  }
  liveWorlds.clear();
}

// vitest stops its fork workers with SIGTERM, which skips 'exit'. While a
// world is alive we catch it, clean up, and re-raise it with Node's default
// action restored, so the worker still dies of SIGTERM.
function onSigterm(): void {
  exitSafetyNet();
  process.off('SIGTERM', onSigterm);
  process.kill(process.pid, 'SIGTERM');
}

function installExitHook(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', exitSafetyNet);
  }
  if (!process.listeners('SIGTERM').includes(onSigterm)) process.on('SIGTERM', onSigterm);
}

function forgetWorld(id: string): void {
  liveWorlds.delete(id);
  if (liveWorlds.size === 0) process.off('SIGTERM', onSigterm);
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

function makeLayout(id: string, v6: boolean, ipv6Present: boolean, podIPv4: Record<string, string>): Layout {
  const name = (role: string) => `${NETNS_PREFIX}-${id}-${role}`;
  return {
    id,
    v6,
    ipv6Present,
    ns: { node: name('node'), remote: name('remote'), client: name('client') },
    pods: POD_SPECS.map((p) => ({ ...p, v4: podIPv4[p.name] ?? p.v4, netns: name(p.name), hostIf: `veth-${p.name}` })),
  };
}

function allNetns(l: Layout): string[] {
  return [l.ns.node, l.ns.remote, l.ns.client, ...l.pods.map((p) => p.netns)];
}

// Before any interface exists, so new interfaces inherit the defaults. ICMP
// rate limits off: every rejected attempt of a burst gets its own error
// instead of the seventh one timing out.
function routerSysctls(forwarding: boolean, v6: boolean): Record<string, number> {
  const s: Record<string, number> = {
    'net.ipv4.conf.all.rp_filter': 0,
    'net.ipv4.conf.default.rp_filter': 0,
    'net.ipv4.ip_forward': forwarding ? 1 : 0,
    'net.ipv4.icmp_ratelimit': 0,
  };
  if (v6) {
    Object.assign(s, {
      'net.ipv6.conf.all.accept_dad': 0,
      'net.ipv6.conf.default.accept_dad': 0,
      'net.ipv6.conf.all.forwarding': forwarding ? 1 : 0,
      'net.ipv6.icmp.ratelimit': 0,
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

// ---------------------------------------------------------------------------
// Processes inside namespaces: echo servers and request agents

interface Tracked {
  pid: number;
  exited: Promise<unknown>;
}

interface Spawned extends Tracked {
  stdout: NodeJS.ReadableStream;
  stdin: NodeJS.WritableStream;
  stderrText(): string;
}

/**
 * Starts `node script args` inside netns and records its PID in `owned`
 * before anything can fail, so destroy() always finds it. `ip netns exec`
 * execs node directly, so the PID is node's own. stdin stays a pipe: both
 * scripts exit when it closes, i.e. when this process dies.
 */
function spawnInNetns(owned: Owned, netns: string, script: string, args: string[]): Spawned {
  const child = execa('ip', ['netns', 'exec', netns, process.execPath, script, ...args], {
    stdin: 'pipe',
    buffer: false,
    reject: false,
  });
  if (child.pid === undefined || !child.stdout || !child.stdin || !child.stderr) {
    throw new Error(`could not start ${script} in ${netns}`);
  }
  const exited = child.then(
    (r) => r,
    (e: unknown) => e,
  );
  const tracked = { pid: child.pid, exited };
  owned.processes.push(tracked);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  return { ...tracked, stdout: child.stdout, stdin: child.stdin, stderrText: () => stderr.trim() };
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

async function stopProcess(p: Tracked): Promise<void> {
  killQuietly(p.pid, 'SIGTERM');
  const timeout = new Promise((r) => setTimeout(r, 2_000, 'timeout'));
  if ((await Promise.race([p.exited, timeout])) === 'timeout') {
    killQuietly(p.pid, 'SIGKILL');
    await p.exited;
  }
}

/** Resolves once the server printed its ready line (all listeners bound). */
async function startEchoServer(owned: Owned, pod: PodSpec & { netns: string }, tcp: number[], udp: number[]) {
  const args = ['--name', pod.name, '--tcp', tcp.join(','), '--udp', udp.join(',')];
  const server = spawnInNetns(owned, pod.netns, ECHO_SERVER, args);
  const lines = readline.createInterface({ input: server.stdout });
  const ready = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  const died = server.exited.then(() => 'exited');
  const timeout = new Promise((r) => setTimeout(r, 10_000, 'timed out').unref());
  const outcome = await Promise.race([ready, died, timeout]);
  lines.close();
  if (outcome !== undefined) {
    throw new Error(`echo server ${pod.name} in ${pod.netns} ${String(outcome)}: ${server.stderrText()}`);
  }
}

interface Job {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  count: number;
  timeout: number;
  concurrency: number;
}

/** One long-lived echo client per namespace; jobs are multiplexed by id. */
class Agent {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply[]) => void; reject: (e: Error) => void }>();
  private readonly proc: Spawned;

  constructor(owned: Owned, private readonly netns: string) {
    this.proc = spawnInNetns(owned, netns, ECHO_CLIENT, ['--serve']);
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => this.onLine(line));
    void this.proc.exited.then(() => this.failAll(`agent in ${netns} exited: ${this.proc.stderrText()}`));
  }

  run(job: Job): Promise<Reply[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.stdin.write(JSON.stringify({ id, ...job }) + '\n');
    });
  }

  private onLine(line: string): void {
    const msg = JSON.parse(line) as { id: number; replies?: Array<Reply & { i: number }>; error?: string };
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if (msg.replies) waiter.resolve(msg.replies.map(({ i: _i, ...reply }) => reply as Reply));
    else waiter.reject(new Error(`request from ${this.netns} failed: ${msg.error}`));
  }

  private failAll(why: string): void {
    for (const w of this.pending.values()) w.reject(new Error(why));
    this.pending.clear();
  }
}

// ---------------------------------------------------------------------------
// World

function hostOf(name: string, netns: string, ip4: string, ip6: string, v6: boolean): Host {
  return { name, netns, ips: { 4: [ip4], 6: v6 ? [ip6] : [] } };
}

function podOf(p: Layout['pods'][number], v6: boolean): Pod {
  return {
    name: p.name,
    netns: p.netns,
    nodeName: p.nodeName,
    ips: { 4: [p.v4], 6: v6 ? [p.v6] : [] },
    ip: v6 ? { 4: p.v4, 6: p.v6 } : { 4: p.v4 },
  };
}

const RESTORE_CMD: Record<RuleBackend, string[]> = {
  iptables: ['iptables-restore'],
  ip6tables: ['ip6tables-restore'],
  nftables: ['nft', '-f', '-'],
};

function destroyer(id: string, owned: Owned): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () =>
    (done ??= (async () => {
      owned.destroyed = true;
      await Promise.all(owned.processes.map(stopProcess));
      // -force: go on past a namespace that construction never got to create.
      await run(['ip', '-force', '-batch', '-'], owned.netns.map((n) => `netns del ${n}`).join('\n') + '\n').catch(
        () => {},
      );
      forgetWorld(id);
    })());
}

/**
 * Builds a fresh world (about half a second). The caller must call destroy()
 * in afterAll or finally, also when a test fails.
 */
export async function createWorld(opts: WorldOptions = {}): Promise<World> {
  const ipv6Present = hasIPv6();
  const v6 = opts.dualStack ?? false;
  if (v6 && !ipv6Present) throw new Error('dual-stack world requested but the kernel has no IPv6');
  const tcpPorts = opts.tcpPorts ?? DEFAULT_TCP_PORTS;
  const udpPorts = opts.udpPorts ?? DEFAULT_UDP_PORTS;

  installExitHook();
  await sweepStaleNamespaces();
  const id = `${process.pid}-${++counter}`;
  const layout = makeLayout(id, v6, ipv6Present, opts.podIPv4 ?? {});
  const owned: Owned = { netns: allNetns(layout), processes: [], destroyed: false };
  liveWorlds.set(id, owned);
  const destroy = destroyer(id, owned);

  try {
    await buildTopology(layout);
    await Promise.all(layout.pods.map((p) => startEchoServer(owned, p, tcpPorts, udpPorts)));
  } catch (err) {
    await destroy();
    throw err;
  }

  const agents = new Map<string, Agent>();
  const alive = (what: string) => {
    if (owned.destroyed) throw new Error(`${what} on destroyed world ${id}`);
  };

  const request = async (from: Host | Pod, to: Target, ro: RequestOptions = {}): Promise<Reply[]> => {
    alive('request');
    let agent = agents.get(from.netns);
    if (!agent) agents.set(from.netns, (agent = new Agent(owned, from.netns)));
    const job = {
      ...{ proto: to.proto, host: to.ip, port: to.port },
      ...{ count: ro.count ?? 1, timeout: ro.timeoutMs ?? DEFAULT_TIMEOUT_MS, concurrency: ro.concurrency ?? 8 },
    };
    return agent.run(job);
  };

  const exec = async (host: Host | Pod, argv: string[]): Promise<ExecResult> => {
    alive('exec');
    const r = await execa('ip', ['netns', 'exec', host.netns, ...argv], { reject: false });
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
  };

  const loadRules = async (backend: RuleBackend, text: string, lo: { noflush?: boolean } = {}): Promise<void> => {
    alive('loadRules');
    const cmd = [...RESTORE_CMD[backend]];
    if (lo.noflush && backend !== 'nftables') cmd.push('--noflush');
    await run(inNetns(layout.ns.node, cmd), text);
  };

  const resetRules = async (): Promise<void> => {
    alive('resetRules');
    await run(inNetns(layout.ns.node, ['nft', 'flush', 'ruleset']));
  };

  const pods = layout.pods.map((p) => podOf(p, v6));
  const pod = (name: string): Pod => {
    const found = pods.find((p) => p.name === name);
    if (!found) throw new Error(`no pod ${name} in world ${id}; pods are ${pods.map((p) => p.name).join(', ')}`);
    return found;
  };

  return {
    id,
    node: hostOf('node', layout.ns.node, NODE_IP[4], NODE_IP[6], v6),
    remoteNode: hostOf('remote', layout.ns.remote, REMOTE_IP[4], REMOTE_IP[6], v6),
    client: hostOf('client', layout.ns.client, CLIENT_IP[4], CLIENT_IP[6], v6),
    pods,
    pod,
    clusterCIDR: { ...CLUSTER_CIDR },
    serviceCIDR: { ...SERVICE_CIDR },
    tcpPorts: [...tcpPorts],
    udpPorts: [...udpPorts],
    loadRules,
    resetRules,
    request,
    exec,
    destroy,
  };
}
