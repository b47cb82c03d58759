/**
 * `kpc apply --mode ipvs` proven against a real IPVS kernel (the qemu VM of
 * test/vm/vm.ts), without Node in the VM, in two boots:
 *
 * 1. load the OLD rules (kpc's IPVS parts for manifests A, with the loaders
 *    they name) plus FOREIGN objects (a user's own virtual service, ipset and
 *    iptables chain) into namespace `node`, and manifests B alone into a
 *    fresh namespace `fresh` (what apply's scratch namespace would hold);
 *    print every dump apply reads (ipvsadm -Sn, ipset save, ip -j addr show
 *    dev kube-ipvs0, iptables-save -t filter|nat, ip6tables-save).
 * 2. on the host, run src/apply's own prepareIpvs + commitIpvs on a replay
 *    target: reads are answered from those dumps, every other command is
 *    recorded (argv, stdin, and the rule file it names) instead of run.
 * 3. boot again: the same OLD + FOREIGN state (with pods and echo servers),
 *    the recorded commands run in order in `node`, then the kernel state is
 *    dumped and compared on the host with a fresh load of B in the same boot;
 *    the foreign objects must be untouched, and traffic must follow B.
 *
 * Skips with a printed reason where no VM can run, except under CI=true,
 * where that is a failure (as the other VM tests).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { commitIpvs, prepareIpvs } from '../../src/apply/apply-ipvs.js';
import type { Exec, ExecOptions, Scratch, Target } from '../../src/apply/exec.js';
import { compileGraph } from '../../src/compile.js';
import { emitIpvsParts, type IpvsPart } from '../../src/emit/ipvs/index.js';
import type { NodeOptions } from '../../src/graph/node-context.js';
import type { Pod } from '../kernel/harness.js';
import { service, slices, toYaml, type PortSpec } from '../kernel/manifests.js';
import { sharedVmRun } from './shared-run.js';
import { parseEchoReplies, runInVm, shQuote, splitSections, type RunInVmResult } from './vm.js';

const TAG = '[ipvs-apply]';

const NODE_IP = '192.0.2.10';
const PODS: Pod[] = [
  ['local-1', '10.244.1.2'],
  ['local-2', '10.244.1.3'],
  ['local-3', '10.244.1.4'],
  ['cl', '10.244.1.9'],
].map(([name, ip4]) => ({ name: name!, netns: name!, nodeName: 'node', ips: { 4: [ip4!] }, ip: { 4: ip4! } }) as Pod);
const pod = (name: string): Pod => PODS.find((p) => p.name === name)!;
const eps = (...names: string[]) => names.map((n) => ({ pod: pod(n) }));

const HTTP: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080 }];
const DNS: PortSpec[] = [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }];
const NP: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }];
const SH = { 'kpc.dev/ipvs-scheduler': 'sh' };

function annotated(obj: object, annotations: Record<string, string>): object {
  const o = obj as { metadata: Record<string, unknown> };
  return { ...o, metadata: { ...o.metadata, annotations } };
}

/** A: the rules already in the kernel. */
function manifestsA(): object[] {
  return [
    service('web', { clusterIPs: ['10.96.0.10'], ports: HTTP }),
    ...slices('web', HTTP, eps('local-1', 'local-2')),
    service('gone', { clusterIPs: ['10.96.0.11'], ports: HTTP }),
    ...slices('gone', HTTP, eps('local-1')),
    service('sched', { clusterIPs: ['10.96.0.12'], ports: HTTP }),
    ...slices('sched', HTTP, eps('local-1', 'local-2', 'local-3')),
    service('sticky', { clusterIPs: ['10.96.0.13'], ports: HTTP }),
    ...slices('sticky', HTTP, eps('local-1', 'local-2')),
    service('dns', { clusterIPs: ['10.96.0.53'], ports: DNS }),
    ...slices('dns', DNS, eps('local-1')),
  ];
}

/** B: web's endpoints changed, gone removed, new and np (a node port) added, sched to sh, sticky gets ClientIP affinity, dns moved to local-2. */
function manifestsB(): object[] {
  return [
    service('web', { clusterIPs: ['10.96.0.10'], ports: HTTP }),
    ...slices('web', HTTP, eps('local-2', 'local-3')),
    service('new', { clusterIPs: ['10.96.0.14'], ports: HTTP }),
    ...slices('new', HTTP, eps('local-3')),
    annotated(service('sched', { clusterIPs: ['10.96.0.12'], ports: HTTP }), SH),
    ...slices('sched', HTTP, eps('local-1', 'local-2', 'local-3')),
    service('sticky', { clusterIPs: ['10.96.0.13'], ports: HTTP, sessionAffinity: 'ClientIP' }),
    ...slices('sticky', HTTP, eps('local-1', 'local-2')),
    service('dns', { clusterIPs: ['10.96.0.53'], ports: DNS }),
    ...slices('dns', DNS, eps('local-2')),
    // The first node port: new ipsets and iptables rules that match them, so the iptables switch has work to do.
    service('np', { type: 'NodePort', clusterIPs: ['10.96.0.15'], ports: NP }),
    ...slices('np', NP, eps('local-1')),
  ];
}

const NODE: NodeOptions = { nodeName: 'node', nodeIPs: [NODE_IP], clusterCIDRs: ['10.244.0.0/16'] };

function compile(objects: object[]): IpvsPart[] {
  const { graph } = compileGraph([{ name: 'ipvs-apply.yaml', text: toYaml(objects) }], NODE);
  return emitIpvsParts(graph);
}

/** The user's own objects, in `node`: none of them is kpc's to touch. */
const FOREIGN = `
ip netns exec node ipvsadm -A -t 203.0.113.5:8080 -s wrr
ip netns exec node ipvsadm -a -t 203.0.113.5:8080 -r 10.244.1.2:8080 -m -w 3
ip netns exec node ipset create user-set hash:ip
ip netns exec node ipset add user-set 198.51.100.9
ip netns exec node iptables -N USER-CHAIN
ip netns exec node iptables -A USER-CHAIN -s 198.51.100.9/32 -j DROP
ip netns exec node iptables -A INPUT -j USER-CHAIN
`;

const SAVE_TOOLS = ['iptables', 'ip6tables'] as const;
const TABLES = ['filter', 'nat'] as const;

/** bash functions shared by both boots. */
function common(parts: IpvsPart[]): string {
  return `#!/bin/bash
set -u
modprobe ip_vs && for s in rr sh wrr; do modprobe ip_vs_$s; done
load() { # ns dir: every part in dir, with the loader it names
  local part
  for part in ${parts.map((p) => p.name).join(' ')}; do
    echo "### load-$1-$2 $part"
    case $part in
      kube-ipvs0) ip -n $1 -force -batch - ;;
      ipset) ip netns exec $1 ipset restore -exist ;;
      ipvsadm) ip netns exec $1 ipvsadm -R ;;
      iptables) ip netns exec $1 iptables-restore ;;
      ip6tables) ip netns exec $1 ip6tables-restore ;;
    esac < $2/$part 2>&1
    echo "rc=$?"
  done
}
dump() { # tag ns: what apply reads
  echo "### $1 ipvsadm"; ip netns exec $2 ipvsadm -S -n
  echo "### $1 ipset"; ip netns exec $2 ipset save
  echo "### $1 link"; ip netns exec $2 ip -j addr show dev kube-ipvs0; echo "rc=$?"
${SAVE_TOOLS.flatMap((tool) => TABLES.map((t) => `  echo "### $1 ${tool}-save ${t}"; ip netns exec $2 ${tool}-save -t ${t}`)).join('\n')}
}
`;
}

function partFiles(dir: string, parts: IpvsPart[]): Record<string, string> {
  return Object.fromEntries(parts.map((p) => [`${dir}/${p.name}`, p.text]));
}

// ---------------------------------------------------------------------------
// Boot 1: OLD + FOREIGN in node, B in fresh; dumps.

function script1(parts: IpvsPart[]): string {
  return `${common(parts)}
ip netns add node; ip netns add fresh
load node a
${FOREIGN}
load fresh b
dump live node
dump fresh fresh
echo "### end"
`;
}

interface Dump {
  ipvsadm: string;
  ipset: string;
  /** stdout and exit status of ip -j addr show dev kube-ipvs0. */
  link: { stdout: string; exitCode: number };
  saves: Record<string, string>;
}

function readDump(sections: Record<string, string>, tag: string): Dump {
  const get = (name: string) => {
    const s = sections[`${tag} ${name}`];
    if (s === undefined) throw new Error(`no section "${tag} ${name}"`);
    return s;
  };
  const link = get('link');
  const rc = /rc=(\d+)\n?$/.exec(link);
  const saves: Record<string, string> = {};
  for (const tool of SAVE_TOOLS) for (const t of TABLES) saves[`${tool}-save -t ${t}`] = get(`${tool}-save ${t}`);
  return { ipvsadm: get('ipvsadm'), ipset: get('ipset'), link: { stdout: link.replace(/rc=\d+\n?$/, ''), exitCode: Number(rc?.[1] ?? 1) }, saves };
}

// ---------------------------------------------------------------------------
// Host: apply's own prepare + commit on a replay target.

interface Recorded {
  argv: string[];
  input?: string;
  /** The rule file an iptables-restore argv names, read when the command ran (apply deletes it after). */
  file?: { index: number; text: string };
}

/**
 * A target that answers apply's reads from the VM's dumps (the live state;
 * after an iptables commit, the state it committed, for apply's read-back
 * check) and records every other command.
 */
function replayTarget(live: Dump, fresh: Dump, runDir: string): { target: Target; sandbox: Scratch; recorded: Recorded[]; startRecording(): void } {
  const recorded: Recorded[] = [];
  let recording = false;
  const committed = new Set<string>();
  const ok = (stdout = '') => ({ stdout, stderr: '', exitCode: 0 });
  const reads = (dump: Dump, argv: string[], isLive: boolean) => {
    const a = argv.join(' ');
    if (a === 'ipvsadm -S -n') return ok(dump.ipvsadm);
    if (a === 'ipset save') return ok(dump.ipset);
    if (a === 'ip -j addr show dev kube-ipvs0') return { stdout: dump.link.stdout, stderr: dump.link.exitCode ? 'Device "kube-ipvs0" does not exist.' : '', exitCode: dump.link.exitCode };
    const save = /^(ip6?tables)-save -t (\w+)$/.exec(a);
    if (save) return ok((isLive && committed.has(save[1]!) ? fresh : dump).saves[a]!);
    return undefined;
  };
  const exec: Exec = async (argv: string[], options: ExecOptions = {}) => {
    const read = reads(live, argv, true);
    if (read) return read;
    if (!recording) throw new Error(`replay target: unexpected command before commit: ${argv.join(' ')}`);
    const r: Recorded = { argv: [...argv] };
    if (options.input !== undefined) r.input = options.input;
    const restore = /^(ip6?tables)-restore$/.exec(argv[0]!);
    if (restore) {
      const i = argv.findIndex((x) => x.startsWith(runDir));
      if (i < 0) throw new Error(`replay target: ${argv.join(' ')} names no rule file`);
      r.file = { index: i, text: readFileSync(argv[i]!, 'utf8') };
      if (!argv.includes('--test')) committed.add(restore[1]!);
    }
    recorded.push(r);
    return ok();
  };
  const sandboxExec: Exec = async (argv: string[]) => {
    const read = reads(fresh, argv, false);
    if (read) return read;
    // The loads of B: done in the VM (namespace fresh), their result is the fresh dump.
    if (['ipset restore -exist', 'ipvsadm -R', 'iptables-restore -w', 'ip6tables-restore -w'].includes(argv.join(' '))) return ok();
    throw new Error(`replay sandbox: unexpected command ${argv.join(' ')}`);
  };
  return {
    target: { exec, prefix: ['ip', 'netns', 'exec', 'node'], description: 'network namespace node (replayed)', openScratch: async () => ({ exec: sandboxExec, close() {} }) },
    sandbox: { exec: sandboxExec, close() {} },
    recorded,
    startRecording: () => (recording = true),
  };
}

/** The recorded commands as VM files and script lines, run in `node` in order; the first failure stops. */
function replayScript(recorded: Recorded[]): { lines: string; files: Record<string, string> } {
  const files: Record<string, string> = {};
  const lines = recorded.map((r, i) => {
    const argv = [...r.argv];
    if (r.file) {
      files[`cmd/${i}.rules`] = r.file.text;
      argv[r.file.index] = `/work/cmd/${i}.rules`;
    }
    let redirect = '< /dev/null';
    if (r.input !== undefined) {
      files[`cmd/${i}.in`] = r.input;
      redirect = `< cmd/${i}.in`;
    }
    return `echo "### cmd ${i}"; ip netns exec node ${argv.map(shQuote).join(' ')} ${redirect} 2>&1; rc=$?; echo "rc=$rc"; [ $rc = 0 ] || { echo "### replay-failed"; exit 1; }`;
  });
  return { lines: lines.join('\n'), files };
}

// ---------------------------------------------------------------------------
// Boot 2: OLD + FOREIGN with pods and servers, replay, dumps, traffic.

type Check = { name: string; proto: 'tcp' | 'udp'; host: string; port: number; count: number; wait?: number };

const BEFORE_CHECKS: Check[] = [{ name: 'web-before', proto: 'tcp', host: '10.96.0.10', port: 80, count: 4 }];
const AFTER_CHECKS: Check[] = [
  { name: 'web', proto: 'tcp', host: '10.96.0.10', port: 80, count: 8 },
  { name: 'new', proto: 'tcp', host: '10.96.0.14', port: 80, count: 3 },
  { name: 'sched', proto: 'tcp', host: '10.96.0.12', port: 80, count: 6 },
  { name: 'sticky', proto: 'tcp', host: '10.96.0.13', port: 80, count: 6 },
  { name: 'dns', proto: 'udp', host: '10.96.0.53', port: 53, count: 4 },
  { name: 'np', proto: 'tcp', host: NODE_IP, port: 30080, count: 3 },
  { name: 'gone', proto: 'tcp', host: '10.96.0.11', port: 80, count: 1, wait: 1 },
];
const checkLine = (c: Check) =>
  `echo "### check ${c.name}"; ip netns exec cl kpc-echo client -p ${c.proto} -w ${c.wait ?? 2} -c ${c.count} -m ${c.name} ${c.host} ${c.port} 2>&1`;

function script2(parts: IpvsPart[], replay: string): string {
  const pods = PODS.map((p) => p.name).join(' ');
  return `${common(parts)}
phase() { echo "### phase $1"; echo "uptime=$(cut -d' ' -f1 /proc/uptime)"; }
phase start
ip netns add node; ip netns add fresh
for p in ${pods}; do ip netns add $p; done
ip netns exec node sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \\
  net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1
ip -n node link set lo up
ip -n node link add ext0 type dummy; ip -n node addr add ${NODE_IP}/24 dev ext0; ip -n node link set ext0 up
${PODS.map(
  (p) => `ip -n node link add veth-${p.name} type veth peer name eth0 netns ${p.name}
ip -n node link set veth-${p.name} up; ip -n node route add ${p.ip[4]}/32 dev veth-${p.name}
ip -n ${p.name} link set lo up; ip -n ${p.name} link set eth0 up; ip -n ${p.name} addr add ${p.ip[4]}/32 dev eth0
ip -n ${p.name} route add default via ${NODE_IP} dev eth0 onlink`,
).join('\n')}
for p in local-1 local-2 local-3; do ip netns exec $p kpc-echo server -n $p -t 8080 -u 5353 -D && echo "server $p=ok"; done
load node a
${FOREIGN}
load fresh b
phase before
dump before node
${BEFORE_CHECKS.map(checkLine).join('\n')}
phase replay
${replay}
phase after
dump after node
dump fresh fresh
${AFTER_CHECKS.map(checkLine).join('\n')}
phase end
echo "### end"
`;
}

// ---------------------------------------------------------------------------
// Normalization

const lines = (text: string | undefined) => (text ?? '').split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean);
const isForeignIpvs = (l: string) => l.includes('203.0.113.5:8080');
/** kpc's virtual and real servers, sorted. */
const kpcIpvs = (text: string) => lines(text).filter((l) => !isForeignIpvs(l)).sort();
/** KUBE-* sets, without the random hash initval. */
const kubeSets = (text: string) =>
  lines(text)
    .filter((l) => /^(create|add) KUBE-/.test(l))
    .map((l) => l.replace(/ initval 0x[0-9a-f]+/, ''))
    .sort();
const addresses = (text: string) => {
  const json = text.replace(/rc=\d+\n?$/, '').trim();
  return (JSON.parse(json || '[]') as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>)
    .flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`))
    .sort();
};
/** iptables-save text without comments and counters: chain heads without [p:b], rules as they are. */
const rules = (text: string) => lines(text).filter((l) => !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, ''));

// ---------------------------------------------------------------------------

interface Run {
  first: RunInVmResult;
  second: RunInVmResult;
  s1: Record<string, string>;
  s2: Record<string, string>;
  recorded: Recorded[];
  changed: string[];
  a: IpvsPart[];
  b: IpvsPart[];
  context: string;
}

let runDir: string | undefined;

async function bootsAndPlan(): Promise<Run> {
  const a = compile(manifestsA());
  const b = compile(manifestsB());
  const files1 = { ...partFiles('a', a), ...partFiles('b', b) };
  const first = await runInVm({ script: script1(a), files: files1, timeoutMs: 90_000 });
  const s1 = splitSections(first.stdout);
  const ctx1 = `boot 1 exit ${first.exitCode}\n${first.stdout.slice(-15000)}\n--- stderr ---\n${first.stderr.slice(-3000)}`;
  if (first.exitCode !== 0 || !('end' in s1)) throw new Error(`boot 1 failed\n${ctx1}`);
  for (const [k, v] of Object.entries(s1)) if (k.startsWith('load-') && v !== 'rc=0\n') throw new Error(`boot 1: ${k}: ${v}\n${ctx1}`);

  runDir = await mkdtemp(join(tmpdir(), 'kpc-ipvs-apply-'));
  const replay = replayTarget(readDump(s1, 'live'), readDump(s1, 'fresh'), runDir);
  const job = await prepareIpvs(replay.target, replay.sandbox, b, []);
  replay.startRecording();
  const changed = await commitIpvs({ target: replay.target, runDir, lock: null, hooks: {} }, job);
  const { lines: replayLines, files: replayFiles } = replayScript(replay.recorded);

  const second = await runInVm({ script: script2(a, replayLines), files: { ...files1, ...replayFiles }, timeoutMs: 150_000 });
  const s2 = splitSections(second.stdout);
  const phases = Object.entries(s2)
    .filter(([k]) => k.startsWith('phase '))
    .map(([k, v]) => `${k.slice(6)} ${/uptime=([\d.]+)/.exec(v)?.[1]}`);
  console.log(
    `${TAG} kernel ${first.kernelVersion}: boot 1 ${first.totalMs} ms (boot ${first.bootMs} ms), boot 2 ${second.totalMs} ms (boot ${second.bootMs} ms); ` +
      `boot 2 phases (guest uptime, s): ${phases.join(', ')}`,
  );
  const context = `${ctx1}\n=== boot 2 exit ${second.exitCode}\n${second.stdout.slice(-20000)}\n--- stderr ---\n${second.stderr.slice(-3000)}`;
  return { first, second, s1, s2, recorded: replay.recorded, changed, a, b, context };
}

function replies(r: Run, name: string) {
  const raw = r.s2[`check ${name}`];
  if (raw === undefined) throw new Error(`no output for check ${name}\n${r.context}`);
  const all = raw.split('\n').flatMap((l) => parseEchoReplies(l));
  return { raw, ok: all, backends: [...new Set(all.map((x) => x.name))].sort(), errors: raw.split('\n').filter((l) => l.startsWith('ERROR')) };
}

const describeRecorded = (r: Recorded) => `${r.argv.join(' ')}${r.input !== undefined ? `\n    ${r.input.trimEnd().split('\n').join('\n    ')}` : ''}${r.file ? `\n    [${r.file.text.split('\n').length} lines of rules]` : ''}`;

const need = sharedVmRun(TAG, bootsAndPlan, 480_000);

describe('kpc apply --mode ipvs in a real IPVS kernel (qemu VM): the plan from live dumps, replayed', () => {
  afterAll(async () => {
    if (runDir) await rm(runDir, { recursive: true, force: true });
  });

  test('the plan: adds and edits, then the iptables switch, then stale deletions; nothing names a foreign object', (ctx) => {
    const r = need(ctx);
    console.log(`${TAG} recorded commands:\n  ${r.recorded.map(describeRecorded).join('\n  ')}`);
    const tools = r.recorded.map((x) => x.argv.join(' ').replace(/ \/\S+$/, ' FILE'));
    const commits = tools.flatMap((t, i) => (/^ip6?tables-restore -w --noflush FILE$/.test(t) ? [i] : []));
    expect(commits.length, tools.join('\n')).toBeGreaterThan(0);
    expect(tools.slice(commits[0], commits.at(-1)! + 1).every((t) => /^ip6?tables-restore -w --noflush FILE$/.test(t)), tools.join('\n')).toBe(true);
    const before = r.recorded.slice(0, commits[0]).filter((x) => !x.argv.includes('--test'));
    const after = r.recorded.slice(commits.at(-1)! + 1);
    expect(before.map((x) => x.argv.join(' '))).toEqual(['ip -batch -', 'ipset restore -exist', 'ipvsadm -R']);
    expect(after.map((x) => x.argv.join(' '))).toEqual(['ipvsadm -R', 'ipset restore -exist', 'ip -force -batch -']);
    // Before the switch: only additions and edits; after it: only deletions.
    for (const x of before) for (const l of lines(x.input)) expect(l, describeRecorded(x)).toMatch(/^(address add|create|add|-A|-a|-E|-e) /);
    for (const x of after) for (const l of lines(x.input)) expect(l, describeRecorded(x)).toMatch(/^(address del|del|destroy|-D|-d) /);
    const text = r.recorded.map((x) => `${x.argv.join(' ')}\n${x.input ?? ''}\n${x.file?.text ?? ''}`).join('\n');
    for (const foreign of ['203.0.113.5', 'user-set', 'USER-CHAIN']) expect(text).not.toContain(foreign);
    expect(r.changed.length).toBeGreaterThan(0);
  });

  test('replayed in order on OLD + FOREIGN, every command succeeds', (ctx) => {
    const r = need(ctx);
    expect(r.second.exitCode, r.context).toBe(0);
    expect(Object.keys(r.s2), r.context).toContain('end');
    for (const [k, v] of Object.entries(r.s2)) if (k.startsWith('load-')) expect(v, `${k}\n${r.context}`).toBe('rc=0\n');
    expect(Object.keys(r.s2).filter((k) => k.startsWith('cmd '))).toHaveLength(r.recorded.length);
  });

  test('the kernel then holds what a fresh load of B gives: virtual and real servers, KUBE-* sets, kube-ipvs0 addresses', (ctx) => {
    const r = need(ctx);
    expect(kpcIpvs(r.s2['fresh ipvsadm']!).length, r.context).toBeGreaterThan(10);
    expect(kubeSets(r.s2['fresh ipset']!).length, r.context).toBeGreaterThan(5);
    expect(addresses(r.s2['fresh link']!), r.context).toHaveLength(6);
    expect(kpcIpvs(r.s2['after ipvsadm']!), r.context).toEqual(kpcIpvs(r.s2['fresh ipvsadm']!));
    expect(kubeSets(r.s2['after ipset']!), r.context).toEqual(kubeSets(r.s2['fresh ipset']!));
    expect(addresses(r.s2['after link']!), r.context).toEqual(addresses(r.s2['fresh link']!));
    // And it changed: the old state was A.
    expect(kpcIpvs(r.s2['before ipvsadm']!)).not.toEqual(kpcIpvs(r.s2['fresh ipvsadm']!));
    expect(r.s2['after ipvsadm']).toMatch(/^-A -t 10\.96\.0\.12:80 -s sh\b/m);
    expect(r.s2['after ipvsadm']).toMatch(/^-A -t 10\.96\.0\.13:80 -s rr -p 10800/m);
    expect(r.s2['after ipvsadm']).not.toMatch(/10\.96\.0\.11:80/);
    // kpc's iptables rules are B's: every rule of the fresh load is there, in its order.
    for (const tool of SAVE_TOOLS) {
      for (const t of TABLES) {
        const kube = (s: string) => rules(s).filter((l) => /KUBE-/.test(l));
        if (tool === 'iptables') expect(kube(r.s2[`fresh ${tool}-save ${t}`]!).length, `${tool} ${t}`).toBeGreaterThan(3);
        expect(kube(r.s2[`after ${tool}-save ${t}`]!), `${tool} ${t}`).toEqual(kube(r.s2[`fresh ${tool}-save ${t}`]!));
      }
    }
  });

  test('the foreign virtual service, ipset and iptables chain are byte-identical', (ctx) => {
    const r = need(ctx);
    const foreignIpvs = (s: string) => s.split('\n').filter(isForeignIpvs);
    expect(foreignIpvs(r.s2['before ipvsadm']!)).toHaveLength(2);
    expect(foreignIpvs(r.s2['after ipvsadm']!)).toEqual(foreignIpvs(r.s2['before ipvsadm']!));
    const userSet = (s: string) => s.split('\n').filter((l) => / user-set\b/.test(l));
    expect(userSet(r.s2['before ipset']!)).toHaveLength(2);
    expect(userSet(r.s2['after ipset']!)).toEqual(userSet(r.s2['before ipset']!));
    const chain = (s: string) => s.split('\n').filter((l) => l.includes('USER-CHAIN'));
    expect(chain(r.s2['before iptables-save filter']!)).toHaveLength(3);
    expect(chain(r.s2['after iptables-save filter']!)).toEqual(chain(r.s2['before iptables-save filter']!));
  });

  test('traffic follows B: changed endpoints, the new service, sh, ClientIP affinity, UDP moved, the removed service gone', (ctx) => {
    const r = need(ctx);
    const before = replies(r, 'web-before');
    expect(before.backends, before.raw).toEqual(['local-1', 'local-2']);
    const web = replies(r, 'web');
    expect(web.errors, web.raw).toEqual([]);
    expect(web.ok).toHaveLength(8);
    expect(web.backends, web.raw).toEqual(['local-2', 'local-3']);
    const added = replies(r, 'new');
    expect(added.backends, added.raw).toEqual(['local-3']);
    for (const name of ['sched', 'sticky']) {
      const c = replies(r, name);
      expect(c.errors, c.raw).toEqual([]);
      expect(c.ok).toHaveLength(6);
      expect(c.backends, c.raw).toHaveLength(1);
    }
    const dns = replies(r, 'dns');
    expect(dns.errors, dns.raw).toEqual([]);
    expect(dns.backends, dns.raw).toEqual(['local-2']);
    const np = replies(r, 'np');
    expect(np.errors, np.raw).toEqual([]);
    expect(np.backends, np.raw).toEqual(['local-1']);
    const gone = replies(r, 'gone');
    expect(gone.ok, gone.raw).toEqual([]);
  });
});
