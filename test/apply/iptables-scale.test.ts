import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateCluster } from '../../bench/generate-cluster.js';
import { ApplyError, applyGraph, type Target } from '../../src/apply/index.js';
import type { ExecOptions } from '../../src/apply/exec.js';
import { compileGraph, emit } from '../../src/compile.js';
import type { RoutingGraph } from '../../src/graph/types.js';
import { describeKernel } from '../kernel/harness.js';
import { ascents, bareNetns, canonical, clean, fullDump, runDir, sh } from './helpers.js';

// A full apply in iptables mode at a few thousand service ports: it must go
// through within kpc's command time limit (120 s per command), whatever
// iptables-restore flavour the host has. iptables-nft 1.8.9's --noflush
// restore parses kpc's input in time quadratic in the chains it names unless
// the input is shaped for it (139 s for `--noflush --test` at 3,000 service
// ports, 31,572 chains). No time is asserted: the applies must succeed, the
// rules must read back as a plain load of the generated text makes them, and
// foreign rules in filter, nat and mangle must stay byte-identical, on the
// first load, on a load replacing every chain, and on a failed commit.

const PORTS = 3000;

function cluster(seed: number, servicePorts = PORTS): { graph: RoutingGraph; text: string } {
  const generated = generateCluster({ servicePorts, seed });
  const { graph } = compileGraph([{ name: `cluster-${seed}.yaml`, text: generated.text }], {
    nodeName: generated.node.name,
    nodeIPs: [generated.node.ip],
    clusterCIDRs: [generated.node.clusterCIDR],
  });
  return { graph, text: emit(graph, { mode: 'iptables', family: 4 }) };
}

// Foreign rules before kpc's and among them: a user chain, rules in built-in
// chains (before kube-proxy's jumps would go), kube-proxy's canary (a KUBE-
// chain apply does not own), and a mangle table apply never names.
const FOREIGN = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:MY-MARKS - [0:0]
-A PREROUTING -j MY-MARKS
-A MY-MARKS -p tcp -m tcp --dport 443 -j MARK --set-xmark 0x7/0xffffffff
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:MY-FILTER - [0:0]
-A INPUT -j MY-FILTER
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A FORWARD -m comment --comment "a user's own forward rule" -j ACCEPT
-A MY-FILTER -s 203.0.113.0/24 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-PROXY-CANARY - [0:0]
:MY-NAT - [0:0]
-A PREROUTING -j MY-NAT
-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE
-A MY-NAT -d 198.18.0.1/32 -p tcp -j DNAT --to-destination 10.1.1.1:80
COMMIT
`;

/** A line of kpc's (a KUBE- chain, a rule in one, a jump to one), as opposed to the canary, which is kube-proxy's probe and never kpc's. */
const KPC_LINE = /KUBE-(?!PROXY-CANARY\b)/;

/** Every table's foreign part, read with iptables-save itself: mangle whole, filter and nat without kpc's lines. */
async function foreign(netns: string): Promise<string> {
  return clean(await sh(netns, ['iptables-save']))
    .split('\n')
    .filter((l) => !KPC_LINE.test(l))
    .join('\n');
}

/** kpc's lines of filter and nat (the marker chain aside), by chain: what a load of the generated text leaves. */
async function kpcLines(netns: string): Promise<string> {
  const tables = await Promise.all(['filter', 'nat'].map((table) => sh(netns, ['iptables-save', '-t', table])));
  return tables
    .map((text) => {
      const lines = clean(text).split('\n');
      return canonical(lines.filter((l) => l.startsWith('*') || (KPC_LINE.test(l) && !l.includes('KUBE-KPC-GENERATION'))).join('\n'));
    })
    .join('\n');
}

describeKernel(`kpc apply in iptables mode loads ${PORTS} service ports in full`, () => {
  const run = runDir();
  let host: Awaited<ReturnType<typeof bareNetns>>;
  let reference: Awaited<ReturnType<typeof bareNetns>>;
  const A = cluster(1);
  const B = cluster(2);
  /** The restores apply ran on the host, with how their output was taken. */
  const restores: Array<{ argv: string[]; discardStdout: boolean }> = [];
  let target: Target;

  beforeAll(async () => {
    host = await bareNetns();
    reference = await bareNetns();
    await sh(host.name, ['iptables-restore'], FOREIGN);
    target = {
      ...host.target,
      exec: (argv: string[], options?: ExecOptions) => {
        if (/-restore$/.test(argv[0]!)) restores.push({ argv, discardStdout: options?.discardStdout === true });
        return host.target.exec(argv, options);
      },
    };
  });
  afterAll(async () => {
    await host?.remove();
    await reference?.remove();
    run.remove();
  });

  /** What a plain iptables-restore of the generated text leaves, kpc's lines only. */
  const expected = async (text: string) => {
    await sh(reference.name, ['iptables-restore'], text);
    return kpcLines(reference.name);
  };

  it('loads them into a host holding foreign rules, then replaces every chain, foreign rules byte-identical throughout', async () => {
    const before = await foreign(host.name);

    const first = await applyGraph(A.graph, { mode: 'iptables', target, runDir: run.path, full: true });
    expect(first.applied).toEqual(['iptables (IPv4)']);
    expect(await kpcLines(host.name)).toBe(await expected(A.text));
    expect(await foreign(host.name)).toBe(before);
    // Created in an order unrelated to their names: iptables-save's quicksort degenerates on sorted chains (and overflowed its stack at 10,000 ports).
    const chains = await sh(host.name, ['nft', 'list', 'chains']);
    const nat = chains.slice(chains.indexOf('table ip nat {'));
    const listed = nat.slice(0, nat.indexOf('\n}')).split('\n').flatMap((l) => /^\s*chain (KUBE-\S+) \{/.exec(l)?.[1] ?? []);
    expect(listed.length).toBeGreaterThan(20_000);
    expect(ascents(listed)).toBeLessThan(0.6);

    // Another cluster: every chain of A is stale, every chain of B new (every Service goes, hence allowEmpty).
    const second = await applyGraph(B.graph, { mode: 'iptables', target, runDir: run.path, full: true, allowEmpty: true });
    expect(second.applied).toEqual(['iptables (IPv4)']);
    expect(await kpcLines(host.name)).toBe(await expected(B.text));
    expect(await foreign(host.name)).toBe(before);

    // Back to A on the incremental path (the marker says the host holds B): thousands of chains in one
    // --noflush restore, which without the whole-table listing first parses in the square of their number.
    const third = await applyGraph(A.graph, { mode: 'iptables', target, runDir: run.path, allowEmpty: true });
    expect(third.applied).toEqual([expect.stringContaining('incremental')]);
    expect(await kpcLines(host.name)).toBe(await expected(A.text));
    expect(await foreign(host.name)).toBe(before);
    const fourth = await applyGraph(B.graph, { mode: 'iptables', target, runDir: run.path, allowEmpty: true });
    expect(fourth.applied).toEqual([expect.stringContaining('incremental')]);
    expect(await kpcLines(host.name)).toBe(await expected(B.text));

    // The commits' output (a listing of the whole table, see iptables.ts) is never read into memory.
    const commits = restores.filter((r) => r.argv.includes('--noflush') && !r.argv.includes('--test'));
    expect(commits.length).toBe(4);
    expect(commits.every((r) => r.discardStdout)).toBe(true);
    console.log(`[iptables scale] ${PORTS} ports, milliseconds: first load ${JSON.stringify(first.timings)}; every chain replaced ${JSON.stringify(second.timings)}; again, incremental ${JSON.stringify(third.timings)}`);
  }, 600_000);

  it('a commit that fails in nat, after filter went in, leaves the previous rules, foreign ones included', async () => {
    const before = await fullDump(host.name);
    const error = await applyGraph(A.graph, {
      mode: 'iptables',
      target,
      runDir: run.path,
      full: true,
      allowEmpty: true,
      hooks: {
        beforeCommit: (_tool, text) => {
          const at = text.lastIndexOf('COMMIT');
          return `${text.slice(0, at)}-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN\n${text.slice(at)}`;
        },
      },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApplyError);
    expect((error as Error).message).toMatch(/iptables-restore failed at commit/);
    expect((error as Error).message).toMatch(/the previous rules were put back \(iptables \(IPv4\)/);
    expect(await fullDump(host.name)).toBe(before);
    // And the host still holds B as kpc loaded it: a repeat changes nothing.
    expect((await applyGraph(B.graph, { mode: 'iptables', target, runDir: run.path })).changed).toBe(false);
  }, 600_000);
});

// The listing that keeps the parse linear must not hide a missing built-in
// chain: iptables 1.8.9 fakes one in its cache when it lists, and an -I INPUT
// after that fails with ENOENT instead of creating it (see iptables.ts).
describeKernel('kpc apply in iptables mode on hosts whose tables lack built-in chains', () => {
  const run = runDir();
  const small = cluster(3, 40);
  afterAll(() => run.remove());

  it.each([
    ['no filter or nat table at all', []],
    ['filter with only OUTPUT, nat with only POSTROUTING', [['iptables', '-A', 'OUTPUT', '-j', 'ACCEPT'], ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.9.0.0/16', '-j', 'MASQUERADE']]],
  ])('%s: the first apply creates the chains it needs', async (_name, setup) => {
    const host = await bareNetns();
    const reference = await bareNetns();
    try {
      for (const argv of setup) await sh(host.name, argv);
      // The tables kpc creates list their built-in chains' policies: compare rules and user chains.
      const rules = async () => (await foreign(host.name)).split('\n').filter((l) => l.startsWith('-A ') || /^:(?!(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) )/.test(l));
      const before = await rules();
      const report = await applyGraph(small.graph, { mode: 'iptables', target: host.target, runDir: run.path, full: true });
      expect(report.applied).toEqual(['iptables (IPv4)']);
      await sh(reference.name, ['iptables-restore'], small.text);
      expect(await kpcLines(host.name)).toBe(await kpcLines(reference.name));
      expect(await rules()).toEqual(before);
    } finally {
      await host.remove();
      await reference.remove();
    }
  }, 60_000);
});
