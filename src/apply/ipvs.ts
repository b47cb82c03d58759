/**
 * IPVS mode's kernel state as apply sees it, and the plan that moves it:
 * virtual services (ipvsadm), ipsets, and the addresses on kube-ipvs0. None
 * of the three can be replaced in one transaction, so apply adds and edits
 * first (old and new both work meanwhile), switches the iptables rules
 * atomically, and only then deletes what is stale. Everything here is pure:
 * parsers for the tools' dump formats and the planner, unit-tested; the I/O
 * is in apply-ipvs.ts.
 *
 * Ownership:
 * - virtual services: those kpc wants now, those whose address is bound to
 *   kube-ipvs0 (kube-proxy's rule), and those the last apply recorded (node
 *   ports, whose addresses are the node's own); any other is foreign;
 * - ipsets: names starting with KUBE-;
 * - addresses: every address on kube-ipvs0, a dummy interface only kpc
 *   (or kube-proxy) uses.
 */

export interface VirtualService {
  /** `-t 10.96.0.10:80`, `-u [fd00::10]:53`, `--sctp-service ...`, `-f 7`: protocol flag and address. */
  key: string;
  /** The rest of the -A line, as `ipvsadm -Sn` prints it (scheduler, persistence, flags). */
  options: string;
  /** Real servers: address to the rest of its -a line (`-m -w 1`). */
  reals: Map<string, string>;
}

export function parseIpvsadmSave(text: string): Map<string, VirtualService> {
  const services = new Map<string, VirtualService>();
  for (const raw of text.split('\n')) {
    const tokens = raw.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) continue;
    const [verb, flag, address, ...rest] = tokens;
    if (!flag || !address || !/^(-t|-u|-f|--tcp-service|--udp-service|--sctp-service|--fwmark-service)$/.test(flag)) {
      throw new Error(`unexpected line in ipvsadm -Sn output: ${JSON.stringify(raw)}`);
    }
    const key = `${shortFlag(flag)} ${address}`;
    if (verb === '-A') {
      services.set(key, { key, options: rest.join(' '), reals: services.get(key)?.reals ?? new Map() });
    } else if (verb === '-a') {
      const r = rest.indexOf('-r');
      if (r < 0 || !rest[r + 1]) throw new Error(`real server line without -r: ${JSON.stringify(raw)}`);
      const options = [...rest.slice(0, r), ...rest.slice(r + 2)].join(' ');
      let service = services.get(key);
      if (!service) services.set(key, (service = { key, options: '', reals: new Map() }));
      service.reals.set(rest[r + 1]!, options);
    } else {
      throw new Error(`unexpected line in ipvsadm -Sn output: ${JSON.stringify(raw)}`);
    }
  }
  return services;
}

function shortFlag(flag: string): string {
  return ({ '--tcp-service': '-t', '--udp-service': '-u', '--fwmark-service': '-f' } as Record<string, string>)[flag] ?? flag;
}

export interface IpSet {
  name: string;
  /** Type and family, what makes two sets interchangeable (`hash:ip,port inet`). */
  kind: string;
  /** The whole create line, reused to create the set. */
  create: string;
  members: Set<string>;
}

/** `ipset save` (or kpc's restore input): create and add lines; only KUBE-* sets are kept. */
export function parseIpsetSave(text: string): Map<string, IpSet> {
  const sets = new Map<string, IpSet>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [verb, name, ...rest] = line.split(/\s+/);
    if (!name || !isOwnedSet(name)) continue;
    if (verb === 'create') {
      const type = rest[0] ?? '';
      const family = /\bfamily (\S+)/.exec(line)?.[1] ?? '';
      sets.set(name, { name, kind: `${type} ${family}`.trim(), create: line, members: sets.get(name)?.members ?? new Set() });
    } else if (verb === 'add') {
      const set = sets.get(name);
      if (!set) throw new Error(`ipset member of a set never created: ${JSON.stringify(raw)}`);
      set.members.add(rest.join(' '));
    } else if (verb !== 'flush') {
      throw new Error(`unexpected line in ipset input: ${JSON.stringify(raw)}`);
    }
  }
  return sets;
}

export function isOwnedSet(name: string): boolean {
  return name.startsWith('KUBE-');
}

/** The addresses of `ip -j addr show dev kube-ipvs0` as `IP/PREFIX`; null when the interface does not exist. */
export function parseAddresses(json: string | null): string[] | null {
  if (json === null) return null;
  const links = JSON.parse(json || '[]') as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`)).sort();
}

/** The addresses kpc's kube-ipvs0 part adds. */
export function wantedAddresses(part: string): string[] {
  return [...part.matchAll(/^address add (\S+) dev kube-ipvs0$/gm)].map((m) => m[1]!).sort();
}

export interface IpvsState {
  services: Map<string, VirtualService>;
  sets: Map<string, IpSet>;
  /** null: kube-ipvs0 does not exist. */
  addresses: string[] | null;
}

/**
 * Steps in the order apply runs them; each `undo` reverses its step and is
 * run, newest first, when a later step before the iptables switch fails.
 */
export interface IpvsPlan {
  /** `ip -batch` lines: create kube-ipvs0, add addresses. */
  addresses: string[];
  addressesUndo: string[];
  /** `ipset restore -exist` lines: create missing sets, add missing members, replace sets whose type changed. */
  ipsets: string[];
  ipsetsUndo: string[];
  /** `ipvsadm -R` lines: add services and real servers, edit changed ones. */
  services: string[];
  servicesUndo: string[];
  /** After the iptables switch: `ipvsadm -R` deletions of stale real servers and services. */
  staleServices: string[];
  /** `ipset restore -exist` lines: delete stale members, destroy stale sets (unreferenced by then). */
  staleIpsets: string[];
  /** `ip -batch` lines: delete stale addresses. */
  staleAddresses: string[];
}

export function planIsEmpty(plan: IpvsPlan): boolean {
  return [plan.addresses, plan.ipsets, plan.services, plan.staleServices, plan.staleIpsets, plan.staleAddresses].every((l) => l.length === 0);
}

/** Short-lived name for a set being rebuilt with another type (ipset names are at most 31 characters). */
function swapName(name: string): string {
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return `KPC-SWAP-${hash.toString(16).padStart(8, '0')}`;
}

export function planIpvs(live: IpvsState, wanted: IpvsState, recorded: string[]): IpvsPlan {
  const plan: IpvsPlan = {
    addresses: [],
    addressesUndo: [],
    ipsets: [],
    ipsetsUndo: [],
    services: [],
    servicesUndo: [],
    staleServices: [],
    staleIpsets: [],
    staleAddresses: [],
  };
  const wantedAddresses = wanted.addresses ?? [];
  // kube-ipvs0 and its addresses.
  if (live.addresses === null) {
    plan.addresses.push('link add kube-ipvs0 type dummy');
    plan.addressesUndo.push('link del kube-ipvs0');
  }
  const liveAddresses = live.addresses ?? [];
  for (const address of wantedAddresses) {
    if (liveAddresses.includes(address)) continue;
    plan.addresses.push(`address add ${address} dev kube-ipvs0`);
    if (live.addresses !== null) plan.addressesUndo.unshift(`address del ${address} dev kube-ipvs0`);
  }
  for (const address of liveAddresses) if (!wantedAddresses.includes(address)) plan.staleAddresses.push(`address del ${address} dev kube-ipvs0`);

  // ipsets.
  for (const set of wanted.sets.values()) {
    const current = live.sets.get(set.name);
    const members = [...set.members].sort();
    if (!current) {
      plan.ipsets.push(set.create, ...members.map((m) => `add ${set.name} ${m}`));
      plan.ipsetsUndo.unshift(`destroy ${set.name}`);
    } else if (current.kind !== set.kind) {
      const temporary = swapName(set.name);
      const create = set.create.replace(/^create \S+/, `create ${temporary}`);
      plan.ipsets.push(create, ...members.map((m) => `add ${temporary} ${m}`), `swap ${temporary} ${set.name}`, `destroy ${temporary}`);
      const back = current.create.replace(/^create \S+/, `create ${temporary}`);
      plan.ipsetsUndo.unshift(back, ...[...current.members].sort().map((m) => `add ${temporary} ${m}`), `swap ${temporary} ${set.name}`, `destroy ${temporary}`);
    } else {
      for (const m of members) {
        if (current.members.has(m)) continue;
        plan.ipsets.push(`add ${set.name} ${m}`);
        plan.ipsetsUndo.unshift(`del ${set.name} ${m}`);
      }
      for (const m of [...current.members].sort()) if (!set.members.has(m)) plan.staleIpsets.push(`del ${set.name} ${m}`);
    }
  }
  for (const set of live.sets.values()) if (!wanted.sets.has(set.name)) plan.staleIpsets.push(`destroy ${set.name}`);

  // Virtual services.
  for (const service of wanted.services.values()) {
    const current = live.services.get(service.key);
    if (!current) {
      plan.services.push(`-A ${service.key} ${service.options}`.trimEnd());
      for (const [real, options] of service.reals) plan.services.push(`-a ${service.key} -r ${real} ${options}`.trimEnd());
      plan.servicesUndo.unshift(`-D ${service.key}`);
      continue;
    }
    if (current.options !== service.options) {
      plan.services.push(`-E ${service.key} ${service.options}`.trimEnd());
      plan.servicesUndo.unshift(`-E ${service.key} ${current.options}`.trimEnd());
    }
    for (const [real, options] of service.reals) {
      const was = current.reals.get(real);
      if (was === undefined) {
        plan.services.push(`-a ${service.key} -r ${real} ${options}`.trimEnd());
        plan.servicesUndo.unshift(`-d ${service.key} -r ${real}`);
      } else if (was !== options) {
        plan.services.push(`-e ${service.key} -r ${real} ${options}`.trimEnd());
        plan.servicesUndo.unshift(`-e ${service.key} -r ${real} ${was}`.trimEnd());
      }
    }
    for (const real of current.reals.keys()) if (!service.reals.has(real)) plan.staleServices.push(`-d ${service.key} -r ${real}`);
  }
  for (const service of ownedLiveServices(live, wanted, recorded)) {
    if (!wanted.services.has(service.key)) plan.staleServices.push(`-D ${service.key}`);
  }
  return plan;
}

/**
 * The live virtual services that are kpc's (see Ownership above): wanted now,
 * on an address bound to kube-ipvs0, or recorded by the last apply. The
 * planner deletes the stale ones among them; apply counts Services on them.
 */
export function ownedLiveServices(live: IpvsState, wanted: IpvsState, recorded: string[]): VirtualService[] {
  const bound = new Set((live.addresses ?? []).map((a) => a.replace(/\/\d+$/, '')));
  const remembered = new Set(recorded);
  return [...live.services.values()].filter((s) => wanted.services.has(s.key) || bound.has(serviceIP(s.key)) || remembered.has(s.key));
}

/** Virtual services back as `ipvsadm -Sn` prints them, for the readers in src/read. */
export function ipvsadmText(services: Iterable<VirtualService>): string {
  const lines: string[] = [];
  for (const service of services) {
    lines.push(`-A ${service.key} ${service.options}`.trimEnd());
    for (const [real, options] of service.reals) lines.push(`-a ${service.key} -r ${real} ${options}`.trimEnd());
  }
  return lines.map((l) => l + '\n').join('');
}

/** The IP of `-t 10.96.0.10:80` or `-u [fd00::10]:53`; '' for a firewall-mark service. */
export function serviceIP(key: string): string {
  const address = key.split(' ')[1] ?? '';
  if (address.startsWith('[')) return address.slice(1, address.indexOf(']'));
  const colon = address.lastIndexOf(':');
  return colon < 0 ? '' : address.slice(0, colon);
}

/** The plan as a readable list, for --dry-run and the report. */
export function describePlan(plan: IpvsPlan): string {
  const section = (title: string, lines: string[]) => (lines.length ? [`# ${title}`, ...lines] : []);
  return [
    ...section('kube-ipvs0 (ip -batch)', plan.addresses),
    ...section('ipset (ipset restore -exist)', plan.ipsets),
    ...section('ipvsadm (ipvsadm -R)', plan.services),
    ...section('ipvsadm, after the iptables switch: stale', plan.staleServices),
    ...section('ipset, after the iptables switch: stale', plan.staleIpsets),
    ...section('kube-ipvs0, last: stale addresses', plan.staleAddresses),
  ]
    .map((l) => l + '\n')
    .join('');
}
