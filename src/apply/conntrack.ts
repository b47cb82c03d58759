import type { IPFamily, RoutingGraph } from '../graph/types.js';
import type { Exec } from './exec.js';
import { firstLines } from './exec.js';

/**
 * UDP has no connection to close: a client that keeps its source port keeps
 * its conntrack entry, and with it the DNAT to an endpoint that may be gone.
 * After new rules are in, kube-proxy deletes those entries; so does kpc, from
 * the difference between the frontends it applied last time and now.
 */
export interface UdpFrontend {
  /** `ip/PORT` for a cluster, external or load-balancer IP; `nodeport/PORT/FAMILY` for a node port. */
  key: string;
  family: IPFamily;
  /** null for a node port (any node address). */
  ip: string | null;
  port: number;
  /** Endpoint IPs reachable through it, sorted. */
  endpoints: string[];
}

export function udpFrontends(graph: RoutingGraph): UdpFrontend[] {
  const byKey = new Map<string, UdpFrontend>();
  const add = (family: IPFamily, ip: string | null, port: number, endpoints: string[]) => {
    const key = ip === null ? `nodeport/${port}/${family}` : `${ip}/${port}`;
    const seen = byKey.get(key);
    const merged = [...new Set([...(seen?.endpoints ?? []), ...endpoints])].sort();
    byKey.set(key, { key, family, ip, port, endpoints: merged });
  };
  for (const route of graph.servicePorts) {
    if (route.protocol !== 'UDP') continue;
    const internal = route.internal.target === 'local' ? route.localEndpoints : route.internal.target === 'cluster' ? route.clusterEndpoints : [];
    add(route.family, route.clusterIP, route.port, internal.map((e) => e.ip));
    const external = route.external;
    if (!external) continue;
    // Traffic from pods and the node itself may be short-circuited to the cluster endpoints.
    const reach = [...(external.target === 'local' ? route.localEndpoints : external.target === 'cluster' ? route.clusterEndpoints : [])];
    if (external.podsToCluster || external.nodeToCluster) reach.push(...route.clusterEndpoints);
    const ips = reach.map((e) => e.ip);
    for (const ip of [...route.externalIPs, ...route.loadBalancerIPs]) add(route.family, ip, route.port, ips);
    if (route.nodePort !== null) add(route.family, null, route.nodePort, ips);
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** One kind of stale entry: UDP to a frontend, optionally only those DNATed (to one endpoint, or to any). */
export interface ConntrackDeletion {
  family: IPFamily;
  /** The frontend's IP; null for a node port (any node address). */
  origDst: string | null;
  port: number;
  /** 'any': entries that were DNATed at all; an IP: DNATed to that endpoint; null: every entry. */
  dstNat: string | 'any' | null;
}

/**
 * The stale UDP entries to delete (as kube-proxy does):
 * - a frontend gone: every entry to it that was DNATed;
 * - an endpoint gone from a frontend: the entries DNATed to it;
 * - a frontend that had no endpoints and has some now: every entry to it,
 *   so a client is not stuck with one made while there was nowhere to go.
 */
export function conntrackDeletions(before: UdpFrontend[], after: UdpFrontend[]): ConntrackDeletion[] {
  const next = new Map(after.map((f) => [f.key, f]));
  const deletions: ConntrackDeletion[] = [];
  for (const old of before) {
    const now = next.get(old.key);
    const base = { family: old.family, origDst: old.ip, port: old.port };
    if (!now) deletions.push({ ...base, dstNat: 'any' });
    else if (old.endpoints.length === 0 && now.endpoints.length > 0) deletions.push({ ...base, dstNat: null });
    else for (const ip of old.endpoints) if (!now.endpoints.includes(ip)) deletions.push({ ...base, dstNat: ip });
  }
  return deletions;
}

/** The `conntrack -D` command for a deletion (kube-proxy's filters: --orig-dst, --orig-port-dst, --dst-nat). */
export function deletionArgv(d: ConntrackDeletion): string[] {
  const argv = ['conntrack', '-D', '-f', d.family === 6 ? 'ipv6' : 'ipv4', '-p', 'udp'];
  if (d.origDst !== null) argv.push('--orig-dst', d.origDst);
  argv.push('--orig-port-dst', String(d.port));
  if (d.dstNat === 'any') argv.push('--dst-nat');
  else if (d.dstNat !== null) argv.push('--dst-nat', d.dstNat);
  return argv;
}

export interface Flow {
  origDst: string;
  origDport: number;
  /** Where the reply comes from: the endpoint after DNAT, or origDst itself when there was none. */
  replySrc: string;
}

/** `conntrack -L` lines: the first src/dst/dport are the original direction, the second src the reply's. */
export function parseConntrackList(text: string): Flow[] {
  const flows: Flow[] = [];
  for (const line of text.split('\n')) {
    const srcs = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1]!);
    const dsts = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1]!);
    const dport = /\bdport=(\d+)/.exec(line);
    if (srcs.length < 2 || dsts.length < 1 || !dport) continue;
    flows.push({ origDst: canonical(dsts[0]!), origDport: Number(dport[1]), replySrc: canonical(srcs[1]!) });
  }
  return flows;
}

function canonical(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

export function flowMatches(d: ConntrackDeletion, flow: Flow): boolean {
  if (flow.origDport !== d.port) return false;
  if (d.origDst !== null && canonical(d.origDst) !== flow.origDst) return false;
  if (d.dstNat === 'any') return flow.replySrc !== flow.origDst;
  return d.dstNat === null || canonical(d.dstNat) === flow.replySrc;
}

/**
 * Lists the UDP entries once per family and runs `conntrack -D` only for the
 * deletions that match one: a change of many endpoints costs two listings,
 * not a process per endpoint.
 */
export async function runConntrack(exec: Exec, deletions: ConntrackDeletion[]): Promise<{ ran: string[]; failed: string[] }> {
  const ran: string[] = [];
  const failed: string[] = [];
  for (const family of [...new Set(deletions.map((d) => d.family))]) {
    const mine = deletions.filter((d) => d.family === family);
    const listed = await exec(['conntrack', '-L', '-f', family === 6 ? 'ipv6' : 'ipv4', '-p', 'udp']);
    if (listed.exitCode !== 0) {
      failed.push(`conntrack -L (IPv${family}): ${firstLines(listed.stderr || listed.stdout, 2)}`);
      continue;
    }
    const flows = parseConntrackList(listed.stdout);
    for (const d of mine) {
      if (!flows.some((flow) => flowMatches(d, flow))) continue;
      const argv = deletionArgv(d);
      const result = await exec(argv);
      // "0 flow entries have been deleted" (exit 1): the entry expired meanwhile; not a failure.
      if (result.exitCode === 0 || /\b0 flow entries have been deleted/.test(result.stderr)) ran.push(argv.join(' '));
      else failed.push(`${argv.join(' ')}: ${firstLines(result.stderr || result.stdout, 2)}`);
    }
  }
  return { ran, failed };
}
