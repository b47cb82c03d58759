import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyError, applyGraph, type ApplyMode, type Target } from '../../src/apply/index.js';
import { compileGraph } from '../../src/compile.js';
import { InputError } from '../../src/diagnostics/diagnostic.js';
import type { RoutingGraph } from '../../src/graph/types.js';
import type { Pod } from '../kernel/harness.js';
import { describeKernel } from '../kernel/harness.js';
import { service, slices, toYaml } from '../kernel/manifests.js';
import { BIN } from '../helpers/cli.js';
import { bareNetns, clean, compile, fullDump, runDir, sh } from './helpers.js';

// (2) foreign rules are byte-identical before and after apply;
// (3) a commit the kernel rejects leaves the previous rules in place;
// (5) hostile input is refused at validation and changes nothing.
// All in bare network namespaces: no traffic needed, only dumps.

const NODE_IPS = ['192.0.2.10', '2001:db8::10'];
const pod = (name: string, ip: string): Pod => ({ name, netns: '', nodeName: 'node', ips: { 4: [ip], 6: [] }, ip: { 4: ip } });
const P = [pod('a', '10.244.1.2'), pod('b', '10.244.1.3'), pod('c', '10.244.2.2')];

function manifests(version: 1 | 2): object[] {
  const tcp = [{ port: 80 }];
  const udp = [{ port: 53, protocol: 'UDP' as const }];
  const np = [{ port: 8080, nodePort: 30080 }];
  const objects: object[] = [
    service('web', { clusterIPs: ['10.96.0.10'], ports: tcp }),
    ...slices('web', tcp, version === 1 ? [{ pod: P[0]! }, { pod: P[1]! }] : [{ pod: P[1]! }, { pod: P[2]! }]),
    service('dns', { clusterIPs: ['10.96.0.53'], ports: udp }),
    ...slices('dns', udp, [{ pod: P[2]! }]),
  ];
  if (version === 1) objects.push(service('api', { type: 'NodePort', clusterIPs: ['10.96.0.20'], ports: np }), ...slices('api', np, [{ pod: P[0]! }]));
  // A dual-stack service with no endpoints: REJECT rules in both families' filter tables, so every table changes.
  else objects.push(service('empty', { clusterIPs: ['10.96.0.99', 'fd00:10:96::99'], ports: tcp }));
  return objects;
}

const graphs = { 1: compile(manifests(1), { nodeIPs: NODE_IPS }), 2: compile(manifests(2), { nodeIPs: NODE_IPS }) };

const FOREIGN_IPTABLES = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:MY-FILTER - [0:0]
-A INPUT -j MY-FILTER
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A OUTPUT -m comment --comment "a user's own rule" -j ACCEPT
-A MY-FILTER -s 203.0.113.0/24 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:MY-NAT - [0:0]
-A PREROUTING -j MY-NAT
-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE
-A MY-NAT -d 198.18.0.1/32 -p tcp -j DNAT --to-destination 10.1.1.1:80
COMMIT
`;

const FOREIGN_IP6TABLES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:MY-V6 - [0:0]
-A INPUT -j MY-V6
-A MY-V6 -s 2001:db8:99::/48 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s fd00:99::/64 -j MASQUERADE
COMMIT
`;

const FOREIGN_NFT = `table inet mine {
  set blocked { type ipv4_addr; elements = { 198.51.100.7 } }
  chain input { type filter hook input priority 10; ip saddr @blocked drop; tcp dport 2222 accept; }
}
table ip6 kube-proxy-not {
  chain c { type filter hook input priority 0; }
}
`;

async function addForeign(netns: string): Promise<void> {
  await sh(netns, ['iptables-restore'], FOREIGN_IPTABLES);
  await sh(netns, ['ip6tables-restore'], FOREIGN_IP6TABLES);
  await sh(netns, ['nft', '-f', '-'], FOREIGN_NFT);
  await sh(netns, ['ipset', 'restore'], 'create mine hash:ip family inet\nadd mine 192.0.2.77\n');
}

/** The foreign parts, read with the tools directly (not with apply's own parser): no line that names KUBE-. */
async function foreign(netns: string): Promise<string> {
  const withoutKube = (text: string) => clean(text).split('\n').filter((l) => !l.includes('KUBE-')).join('\n');
  return [
    withoutKube(await sh(netns, ['iptables-save'])),
    withoutKube(await sh(netns, ['ip6tables-save'])),
    await sh(netns, ['nft', 'list', 'table', 'inet', 'mine']),
    await sh(netns, ['nft', 'list', 'table', 'ip6', 'kube-proxy-not']),
    await sh(netns, ['ipset', 'save', 'mine']),
  ].join('\n=====\n');
}

async function jumps(netns: string): Promise<string[]> {
  const lines = [...clean(await sh(netns, ['iptables-save'])).split('\n'), ...clean(await sh(netns, ['ip6tables-save'])).split('\n')];
  return lines.filter((l) => /^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*-j KUBE-/.test(l));
}

/**
 * A bare namespace holding foreign rules (and, when `applied`, version 1 of the
 * manifests applied in both modes), created before a suite and removed after.
 */
function foreignHost(applied: boolean): { readonly ns: Awaited<ReturnType<typeof bareNetns>>; run: ReturnType<typeof runDir> } {
  let ns: Awaited<ReturnType<typeof bareNetns>>;
  const run = runDir();
  beforeAll(async () => {
    ns = await bareNetns();
    await addForeign(ns.name);
    if (!applied) return;
    for (const mode of ['iptables', 'nftables'] as const) await applyGraph(graphs[1], { mode, target: ns.target, runDir: run.path });
  });
  afterAll(async () => {
    await ns?.remove();
    run.remove();
  });
  return {
    get ns() {
      return ns;
    },
    run,
  };
}

describeKernel('kpc apply leaves what is not its own alone', () => {
  const host = foreignHost(false);

  it('(2) foreign chains, rules, policies, nft tables and ipsets are byte-identical after applies in both modes; jumps are never duplicated; stale chains go', async () => {
    const before = await foreign(host.ns.name);
    const steps: string[] = [];
    const apply = (mode: ApplyMode, version: 1 | 2) => applyGraph(graphs[version], { mode, target: host.ns.target, runDir: host.run.path, onStep: (step) => steps.push(step) });

    expect((await apply('iptables', 1)).applied).toEqual(['iptables (IPv4)', 'ip6tables (IPv6)']);
    // What the progress line shows, step by step.
    expect(steps).toEqual(['waiting for the apply lock', 'reading the live rules and checking the new ones', 'loading the new rules']);
    expect(await foreign(host.ns.name)).toBe(before);
    const firstJumps = await jumps(host.ns.name);
    expect(firstJumps.length).toBeGreaterThan(8);
    const nat1 = await sh(host.ns.name, ['iptables-save', '-t', 'nat']);
    const apiChains = [...nat1.matchAll(/^:(KUBE-(?:SVC|SEP|EXT)-\w+)/gm)].map((m) => m[1]!);

    // --dry-run: says what would change, changes nothing.
    const untouched = await fullDump(host.ns.name);
    steps.length = 0;
    const dry = await applyGraph(graphs[2], { mode: 'iptables', target: host.ns.target, runDir: host.run.path, dryRun: true, onStep: (step) => steps.push(step) });
    expect(dry.changed).toBe(true);
    expect(steps).toEqual(['reading the live rules and checking the new ones']);
    expect(dry.diff).toMatch(/^\+-A KUBE-SERVICES .*10\.96\.0\.99\/32.* -j REJECT/m);
    expect(dry.semantic).toMatch(/test\/api/);
    expect(await fullDump(host.ns.name)).toBe(untouched);

    expect((await apply('iptables', 2)).changed).toBe(true);
    expect(await foreign(host.ns.name)).toBe(before);
    expect(await jumps(host.ns.name)).toEqual(firstJumps);
    // Jumps stay first in their chains, in kube-proxy's order, the user's rules after them.
    const input = clean(await sh(host.ns.name, ['iptables-save', '-t', 'filter'])).split('\n').filter((l) => l.startsWith('-A INPUT '));
    expect(input.slice(-2)).toEqual(['-A INPUT -j MY-FILTER', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']);
    // Chains of the removed service and of endpoints no longer used are gone.
    const nat2 = await sh(host.ns.name, ['iptables-save', '-t', 'nat']);
    const gone = apiChains.filter((c) => !nat2.includes(`:${c} `));
    expect(gone.length).toBeGreaterThanOrEqual(3);
    expect((await apply('iptables', 2)).changed).toBe(false);

    expect((await apply('nftables', 1)).changed).toBe(true);
    expect(await foreign(host.ns.name)).toBe(before);
    const nftUntouched = await fullDump(host.ns.name);
    const nftDry = await applyGraph(graphs[2], { mode: 'nftables', target: host.ns.target, runDir: host.run.path, dryRun: true });
    expect(nftDry.diff).toMatch(/^\+.*10\.96\.0\.99 \. tcp \. 80/m);
    expect(await fullDump(host.ns.name)).toBe(nftUntouched);
    expect((await apply('nftables', 2)).changed).toBe(true);
    expect(await foreign(host.ns.name)).toBe(before);
    expect((await apply('nftables', 2)).changed).toBe(false);
    expect(await sh(host.ns.name, ['nft', 'list', 'tables'])).toMatch(/^table ip6 kube-proxy$/m);
    // The compact layout replaces kube-proxy's whole (a full load), leaves foreign tables alone, and a repeat changes nothing.
    const compact = () => applyGraph(graphs[2], { mode: 'nftables', layout: 'compact', target: host.ns.target, runDir: host.run.path });
    expect((await compact()).changed).toBe(true);
    expect(await sh(host.ns.name, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).toMatch(/set hairpin/);
    expect(await foreign(host.ns.name)).toBe(before);
    expect((await compact()).changed).toBe(false);
    expect((await apply('nftables', 2)).changed).toBe(true);
    expect(await sh(host.ns.name, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).not.toMatch(/set hairpin/);
  }, 60_000);
});

describeKernel('kpc apply keeps the previous rules when a commit fails', () => {
  const host = foreignHost(true);

  /** A target whose exec fails the real commit of one tool (not its --test or -c check). */
  const failingCommit = (tool: string): Target => ({
    ...host.ns.target,
    exec: async (argv, options) => {
      const isCommit = argv[0] === tool && !argv.includes('--test') && !argv.includes('-c') && (argv.includes('--noflush') || tool === 'nft') && argv.at(-1)!.includes('pending-');
      if (isCommit) return { stdout: '', stderr: `${tool}: injected failure at commit`, exitCode: 1 };
      return host.ns.target.exec(argv, options);
    },
  });

  const expectFailure = async (promise: Promise<unknown>, ...patterns: RegExp[]) => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApplyError);
    for (const pattern of patterns) expect((error as Error).message).toMatch(pattern);
    return (error as Error).message;
  };

  it('(3) iptables: nat rejected after filter was committed: filter is put back, the whole dump is as before', async () => {
    const before = await fullDump(host.ns.name);
    let sawBoth = false;
    const message = await expectFailure(
      applyGraph(graphs[2], {
        mode: 'iptables',
        target: host.ns.target,
        runDir: host.run.path,
        hooks: {
          beforeCommit: (tool, text) => {
            if (tool !== 'iptables') return text;
            sawBoth = text.includes('*filter') && text.includes('*nat');
            // A rule the kernel refuses, in the last table (nat): filter is committed by then.
            const at = text.lastIndexOf('COMMIT');
            return `${text.slice(0, at)}-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN\n${text.slice(at)}`;
          },
        },
      }),
      /iptables-restore failed at commit/,
      /the previous rules were put back \(ip6tables \(IPv6\), iptables \(IPv4\)/,
    );
    expect(sawBoth).toBe(true);
    expect(await fullDump(host.ns.name), message).toBe(before);
  }, 30_000);

  it('(3) iptables: the IPv6 commit fails while IPv4 goes in: IPv4 is put back too', async () => {
    const before = await fullDump(host.ns.name);
    await expectFailure(
      applyGraph(graphs[2], { mode: 'iptables', target: failingCommit('ip6tables-restore'), runDir: host.run.path }),
      /ip6tables-restore failed at commit: ip6tables-restore: injected failure/,
      /put back \(ip6tables \(IPv6\), iptables \(IPv4\)/,
    );
    expect(await fullDump(host.ns.name)).toBe(before);
  }, 30_000);

  it('(3) nftables: a file that fails at commit changes nothing', async () => {
    const before = await fullDump(host.ns.name);
    await expectFailure(
      applyGraph(graphs[2], { mode: 'nftables', target: host.ns.target, runDir: host.run.path, hooks: { beforeCommit: (_tool, text) => `${text}add rule ip kube-proxy no-such-chain accept\n` } }),
      /nft -f failed at commit/,
      /nothing was changed/,
    );
    expect(await fullDump(host.ns.name)).toBe(before);
    await expectFailure(applyGraph(graphs[2], { mode: 'nftables', target: failingCommit('nft'), runDir: host.run.path }), /injected failure/, /nothing was changed/);
    expect(await fullDump(host.ns.name)).toBe(before);
  }, 30_000);

  it('after failures the lock is free and a real apply goes through', async () => {
    expect((await applyGraph(graphs[2], { mode: 'iptables', target: host.ns.target, runDir: host.run.path })).changed).toBe(true);
    expect((await applyGraph(graphs[2], { mode: 'nftables', target: host.ns.target, runDir: host.run.path })).changed).toBe(true);
  }, 30_000);
});

/** Names and values built to break out of a comment, a token or a line, one per case. */
const HOSTILE: Array<[string, (objects: object[]) => void]> = [
  ['service name with a quote and a rule', (o) => ((o[0] as any).metadata.name = 'web" -j ACCEPT -m comment --comment "x')],
  ['namespace with a newline and a rule', (o) => ((o[0] as any).metadata.namespace = 'test\n-A INPUT -j ACCEPT')],
  ['port name closing the nft comment', (o) => ((o[0] as any).spec.ports[0].name = 'http"; flush ruleset; #')],
  ['cluster IP with extra tokens', (o) => (((o[0] as any).spec.clusterIP = '10.96.0.10 -j ACCEPT'), ((o[0] as any).spec.clusterIPs = ['10.96.0.10 -j ACCEPT']))],
  ['external IP with a newline', (o) => ((o[0] as any).spec.externalIPs = ['192.0.2.50\n-A INPUT -j ACCEPT'])],
  ['source range closing an nft set', (o) => (((o[0] as any).spec.type = 'LoadBalancer'), ((o[0] as any).spec.loadBalancerSourceRanges = ['0.0.0.0/0 } accept ; add rule ip filter input accept #']))],
  ['endpoint address with a DNAT target', (o) => ((o[1] as any).endpoints[0].addresses = ['10.244.1.2 --to-destination 6.6.6.6'])],
  ['endpoint port name with a semicolon', (o) => ((o[1] as any).ports[0].name = 'p; flush ruleset')],
  ['endpoint nodeName with a newline', (o) => ((o[1] as any).endpoints[0].nodeName = 'node\n-A INPUT -j ACCEPT')],
  ['IPVS scheduler annotation with an ipvsadm line', (o) => ((o[0] as any).metadata.annotations = { 'kpc.dev/ipvs-scheduler': 'rr\n-A -t 6.6.6.6:80 -s rr' })],
  ['service-name label with a quote', (o) => ((o[1] as any).metadata.labels['kubernetes.io/service-name'] = 'web" accept')],
];

function hostile(index: number): object[] {
  const tcp = [{ name: 'http', port: 80 }];
  const objects = [service('web', { clusterIPs: ['10.96.0.10'], ports: tcp }), ...slices('web', tcp, [{ pod: P[0]! }])];
  HOSTILE[index]![1](objects);
  return objects;
}

describeKernel('kpc apply refuses hostile input before touching anything', () => {
  const host = foreignHost(true);

  it.each(HOSTILE.map(([name], i) => [name, i] as const))('(5) validation refuses %s', (_name, i) => {
    const compileIt = () => compileGraph([{ name: 'hostile.yaml', text: toYaml(hostile(i)) }], { nodeName: 'node', nodeIPs: NODE_IPS, clusterCIDRs: ['10.244.0.0/16'] });
    expect(compileIt).toThrow(InputError);
  });

  it.each(['iptables', 'nftables'])('(5) bin/kpc apply --mode %s exits 1 on hostile input and the live rules stay as they were', async (mode) => {
    const before = await fullDump(host.ns.name);
    for (const i of [0, 6]) {
      const file = join(host.run.path, `hostile-${i}.yaml`);
      writeFileSync(file, toYaml(hostile(i)));
      const args = ['apply', '-f', file, '--mode', mode, '--node-name', 'node', '--node-ip', NODE_IPS[0]!, '--cluster-cidr', '10.244.0.0/16'];
      const result = await execa('ip', ['netns', 'exec', host.ns.name, process.execPath, BIN, ...args], { reject: false, env: { KPC_RUN_DIR: host.run.path } });
      expect(result.exitCode, String(result.stderr)).toBe(1);
      expect(String(result.stderr)).toMatch(/nothing was applied, the host's rules are as they were/);
      expect(await fullDump(host.ns.name)).toBe(before);
    }
  }, 60_000);

  it.each(['iptables', 'nftables'] as ApplyMode[])('(5) %s: a graph that skipped validation is still refused by the last guards, and nothing changes', async (mode) => {
    const before = await fullDump(host.ns.name);
    const graph = structuredClone(graphs[2]) as RoutingGraph;
    // What validation would have refused: a name that ends a comment (iptables) or a command (nft chain names).
    if (mode === 'iptables') graph.servicePorts[0]!.servicePortName = 'x" -j ACCEPT -m comment --comment "y';
    else graph.servicePorts[0]!.name = 'x ; flush ruleset ; add chain ip kube-proxy y';
    await expect(applyGraph(graph, { mode, target: host.ns.target, runDir: host.run.path })).rejects.toThrow(mode === 'iptables' ? /unsafe comment text/ : /of the nftables input/);
    expect(await fullDump(host.ns.name)).toBe(before);
  }, 30_000);
});
