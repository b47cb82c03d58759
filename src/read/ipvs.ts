import { readHostPort } from './addresses.js';
import { readIptables } from './iptables.js';
import { parseIpsets, type Ipsets } from './ipsets.js';
import { IpvsIptables, addressOf, type Probe } from './ipvs-iptables.js';
import { emptyModel, emptyShares, newFrontend, nodePortKey, type Family, type Frontend, type RuleSetModel } from './model.js';
import { splitArgs } from './tokens.js';

const PROTOCOLS: Record<string, string> = { '-t': 'tcp', '--tcp-service': 'tcp', '-u': 'udp', '--udp-service': 'udp', '--sctp-service': 'sctp' };

/**
 * Reads IPVS mode: kpc's sectioned IPVS document (or the same parts as the
 * live host prints them: `ipvsadm -Sn`, `ipset save`, `iptables-save`), or
 * `ipvsadm -Sn` text alone.
 *
 * The virtual servers give the endpoints and their shares (by weight) and
 * affinity (persistence). The ipsets say what each virtual server's address
 * is: a cluster IP (KUBE-CLUSTER-IP), another service address
 * (KUBE-IPVS-IPS), or else a node address, whose virtual servers are one node
 * port (the iptables and nftables readers' `nodeport N` frontend). The
 * iptables part, read against the sets, gives masquerade and source ranges.
 *
 * With ipvsadm text alone, frontends are keyed by address, their kind is
 * 'external' and their masquerade 'unknown'; source ranges cannot be known.
 */
export function readIpvs(text: string): RuleSetModel {
  const parts = sections(text);
  const model = emptyModel('ipvs');
  const servers = readVirtualServers(parts.get('ipvsadm') ?? '');
  const ipsets = parts.has('ipset') ? parseIpsets(parts.get('ipset')!) : null;
  const rules = new Map<Family, IpvsIptables>();
  for (const [family, name] of [[4, 'iptables'], [6, 'ip6tables']] as const) {
    const part = parts.get(name);
    if (part === undefined) continue;
    if (ipsets) rules.set(family, new IpvsIptables(part, ipsets));
    // Rules that are neither kube-proxy's nor kpc's (a live host's own): listed, never read.
    for (const foreign of readIptables(part).foreign) model.foreign.push(family === 4 ? foreign : `ip6 ${foreign}`);
  }
  if (ipsets) for (const set of ipsets.names()) if (!set.startsWith('KUBE-')) model.foreign.push(`ipset: ${set}`);
  const nodePorts = new Map<string, VirtualServer[]>();
  for (const server of servers) {
    const frontend = newFrontend(`${server.protocol} ${server.address}`, 'external', null);
    frontend.masquerade = 'unknown';
    frontend.affinitySeconds = server.persistence;
    const total = [...server.weights.values()].reduce((a, b) => a + b, 0);
    const shares = emptyShares();
    for (const [real, weight] of server.weights) if (weight > 0) shares[real] = weight / total;
    frontend.endpoints = shares;
    if (total === 0) frontend.verdict = 'reject';
    if (ipsets) {
      const role = roleOf(server, ipsets);
      if (role === 'node-port') {
        const key = `IPv${server.family} ${nodePortKey(server.protocol, server.port)}`;
        nodePorts.set(key, [...(nodePorts.get(key) ?? []), { ...server, frontend }]);
        continue;
      }
      frontend.kind = role;
      interpret(frontend, probeOf(server), rules.get(server.family) ?? null);
    }
    model.frontends.set(`IPv${server.family} ${frontend.key}`, frontend);
  }
  for (const [key, group] of nodePorts) addNodePort(model, key, group, rules);
  model.families = [...new Set(servers.map((s) => s.family))].sort();
  return model;
}

interface VirtualServer {
  family: Family;
  protocol: string;
  /** `ip:port` or `[ipv6]:port`, canonical. */
  address: string;
  port: number;
  persistence: number | null;
  /** Real server `ip:port` to weight. */
  weights: Map<string, number>;
  frontend?: Frontend;
}

function readVirtualServers(text: string): VirtualServer[] {
  const servers = new Map<string, VirtualServer>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('-A') && !line.startsWith('-a')) continue;
    const args = splitArgs(line);
    const protoFlag = args.find((a) => a in PROTOCOLS);
    if (!protoFlag) continue;
    const address = readHostPort(args[args.indexOf(protoFlag) + 1] ?? '');
    const protocol = PROTOCOLS[protoFlag]!;
    const key = `${protocol} ${address}`;
    if (args[0] === '-A') {
      const persistence = args.indexOf('-p');
      servers.set(key, {
        family: address.startsWith('[') ? 6 : 4,
        protocol,
        address,
        port: Number(/:(\d+)$/.exec(address)?.[1] ?? 0),
        persistence: persistence >= 0 ? Number(args[persistence + 1] ?? 300) : null,
        weights: new Map(),
      });
    } else if (args[0] === '-a') {
      const real = readHostPort(args[args.indexOf('-r') + 1] ?? '');
      const weight = args.indexOf('-w') >= 0 ? Number(args[args.indexOf('-w') + 1]) : 1;
      servers.get(key)?.weights.set(real, weight);
    }
  }
  return [...servers.values()];
}

/** kube-proxy's set names; IPv6 sets are KUBE-6-..., cut to ipset's 31 characters. */
function setName(name: string, family: Family): string {
  return family === 4 ? name : name.replace(/^KUBE-/, 'KUBE-6-').slice(0, 31);
}

function roleOf(server: VirtualServer, ipsets: Ipsets): Frontend['kind'] {
  const ip = addressOf(server.address);
  if (ipsets.has(setName('KUBE-CLUSTER-IP', server.family), `${ip},${server.protocol}:${server.port}`)) return 'cluster-ip';
  // Every service address (cluster, external, load-balancer IP) is in KUBE-IPVS-IPS; a node address is not.
  return ipsets.has(setName('KUBE-IPVS-IPS', server.family), ip) ? 'external' : 'node-port';
}

function probeOf(server: VirtualServer, addresses = [addressOf(server.address)]): Probe {
  return { addresses, protocol: server.protocol, port: server.port };
}

/**
 * Masquerade and source ranges from the iptables part. A virtual server with
 * no real servers forwards nothing, so it masquerades nothing (and pins no
 * client), as the other modes' readers see a rejected frontend.
 */
function interpret(frontend: Frontend, probe: Probe, rules: IpvsIptables | null): void {
  if (frontend.verdict) {
    frontend.masquerade = 'none';
    frontend.affinitySeconds = null;
    return;
  }
  if (!rules) return;
  frontend.masquerade = rules.masquerade(probe);
  frontend.sourceRanges = rules.sourceRanges(probe);
}

/**
 * One `nodeport N` frontend for a node port's virtual servers (one per node
 * address). They are alike when kpc or kube-proxy wrote them; any that is not
 * like the first is kept under its own address, so a diff shows it.
 */
function addNodePort(model: RuleSetModel, key: string, group: VirtualServer[], rules: Map<Family, IpvsIptables>): void {
  const sorted = [...group].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const first = sorted[0]!;
  const same = (s: VirtualServer) => sharesText(s.frontend!) === sharesText(first.frontend!) && s.persistence === first.persistence;
  const alike = sorted.filter(same);
  const frontend = { ...first.frontend!, key: key.slice(key.indexOf(' ') + 1), kind: 'node-port' as const };
  interpret(frontend, probeOf(first, alike.map((s) => addressOf(s.address))), rules.get(first.family) ?? null);
  model.frontends.set(key, frontend);
  for (const other of sorted.filter((s) => !same(s))) {
    const own = { ...other.frontend!, kind: 'node-port' as const };
    interpret(own, probeOf(other), rules.get(other.family) ?? null);
    model.frontends.set(`IPv${other.family} ${own.key}`, own);
  }
}

function sharesText(frontend: Frontend): string {
  return JSON.stringify(Object.entries(frontend.endpoints).sort());
}

/**
 * The parts as a live host prints them (`ipvsadm -Sn`, `ipset save`,
 * `iptables-save`, `ip6tables-save`) joined into kpc's sectioned IPVS
 * document, which readIpvs reads.
 */
export function joinIpvsParts(parts: { ipvsadm: string; ipset?: string; iptables?: string; ip6tables?: string }): string {
  return Object.entries(parts)
    .filter(([, text]) => text !== undefined)
    .map(([name, text]) => `### BEGIN ${name} (dump)\n${text!.endsWith('\n') || text === '' ? text : `${text}\n`}### END ${name}\n`)
    .join('');
}

/** kpc's IPVS document by section name; text with no sections is ipvsadm text. */
function sections(text: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const match of text.matchAll(/^### BEGIN (\S+)[^\n]*\n([\s\S]*?)^### END \1\s*$/gm)) parts.set(match[1]!, match[2]!);
  if (parts.size === 0) parts.set('ipvsadm', text);
  return parts;
}
