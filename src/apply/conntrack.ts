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

/**
 * The `conntrack -D` commands that drop UDP entries whose DNAT no longer
 * holds (as kube-proxy does):
 * - a frontend gone: every entry to it that was DNATed;
 * - an endpoint gone from a frontend: the entries DNATed to it;
 * - a frontend that had no endpoints and has some now: every entry to it,
 *   so a client is not stuck with one made while there was nowhere to go.
 */
export function conntrackDeletions(before: UdpFrontend[], after: UdpFrontend[]): string[][] {
  const next = new Map(after.map((f) => [f.key, f]));
  const commands: string[][] = [];
  for (const old of before) {
    const now = next.get(old.key);
    const base = ['conntrack', '-D', '-f', old.family === 6 ? 'ipv6' : 'ipv4', '-p', 'udp'];
    const to = old.ip === null ? ['--orig-port-dst', String(old.port)] : ['--orig-dst', old.ip, '--orig-port-dst', String(old.port)];
    if (!now) {
      commands.push([...base, ...to, '--dst-nat']);
      continue;
    }
    if (old.endpoints.length === 0 && now.endpoints.length > 0) {
      commands.push([...base, ...to]);
      continue;
    }
    for (const ip of old.endpoints) if (!now.endpoints.includes(ip)) commands.push([...base, ...to, '--dst-nat', ip]);
  }
  return commands;
}

/** "0 flow entries have been deleted" is conntrack's exit 1 for "nothing matched": not a failure. */
export async function runConntrack(exec: Exec, commands: string[][]): Promise<{ ran: string[]; failed: string[] }> {
  const ran: string[] = [];
  const failed: string[] = [];
  for (const argv of commands) {
    const result = await exec(argv);
    const text = argv.join(' ');
    if (result.exitCode === 0 || /\b0 flow entries have been deleted/.test(result.stderr)) ran.push(text);
    else failed.push(`${text}: ${firstLines(result.stderr || result.stdout, 2)}`);
  }
  return { ran, failed };
}
