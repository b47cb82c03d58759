import { execa } from 'execa';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplyMode } from '../../src/apply/index.js';
import { describeKernel } from '../kernel/harness.js';
import { service, slices, toYaml } from '../kernel/manifests.js';
import type { Pod } from '../kernel/harness.js';
import { BIN } from '../helpers/cli.js';
import { bareNetns, canonical, fullDump as rawDump, runDir, sh } from './helpers.js';

// An incremental apply creates chains in another order than a full load: compared as rules, not listing order.
const fullDump = async (name: string) => canonical(await rawDump(name));

// (4) `kpc apply` SIGKILLed at random points (on the incremental path: A and
// B carry kpc's generation marker; and in iptables mode with --full, the
// whole-table --noflush restore), 20 times per mode, leaves the
// old rule set or the new one, never a mix; then an apply goes through and a
// repeat says "no change". Runs the real CLI (bin/kpc, built dist/) inside a
// namespace via `ip netns exec`, and kills only the PID it started.

const ROUNDS = 20;
const SERVICES = 120;

/** A pod with the IPv4 address given and, for dual stack, the IPv6 address made from it. */
const fakePod = (ip: string): Pod => {
  const [, , c, d] = ip.split('.');
  const ip6 = `fd00:244:${c}::${Number(d).toString(16)}`;
  return { name: ip, netns: '', nodeName: ip.startsWith('10.244.1.') ? 'node' : 'remote', ips: { 4: [ip], 6: [ip6] }, ip: { 4: ip, 6: ip6 } };
};

/** Many services, so a commit takes long enough to be killed in the middle of; A and B differ in endpoints and in which services exist. */
function manifests(version: 'A' | 'B', dual: boolean): string {
  const objects: object[] = [];
  for (let i = 0; i < SERVICES; i++) {
    if (version === 'A' && i % 10 === 9) continue;
    if (version === 'B' && i % 10 === 0) continue;
    const ports = [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' as const }].map((p, k) => ({ ...p, name: k === 0 ? 'http' : 'dns' }));
    const base = version === 'A' ? 2 : 5;
    const endpoints = [0, 1, 2].map((k) => fakePod(`10.244.${1 + ((i + k) % 2)}.${base + ((i * 3 + k) % 200)}`));
    const clusterIPs = [`10.96.${1 + Math.floor(i / 200)}.${i % 200}`, ...(dual ? [`fd00:96::${i.toString(16)}`] : [])];
    objects.push(service(`s${i}`, { clusterIPs, ports }), ...slices(`s${i}`, ports, endpoints.map((pod) => ({ pod })), dual ? [4, 6] : [4]));
  }
  return toYaml(objects);
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describeKernel('kpc apply killed at random points leaves the old or the new rules, never a mix', () => {
  // The compact nftables layout too (its incremental transactions are mostly element adds and deletes),
  // and dual stack: nftables commits both families in one transaction; iptables cannot (one restore
  // per family), so there each family must be old or new, and the next apply must bring both to new.
  describe.each([
    ['iptables', [], false],
    ['nftables', [], false],
    ['nftables', ['--layout', 'compact'], false],
    ['iptables', [], true],
    ['nftables', ['--layout', 'compact'], true],
    // A full load every time (most rounds above take the incremental path).
    ['iptables', ['--full'], false],
  ] as [ApplyMode, string[], boolean][])('%s %j dual stack: %s', (mode, extra, dual) => {
    const full = extra.includes('--full');
    let ns: Awaited<ReturnType<typeof bareNetns>>;
    const run = runDir();
    let files: { A: string; B: string };
    beforeAll(async () => {
      files = { A: join(run.path, 'A.yaml'), B: join(run.path, 'B.yaml') };
      ns = await bareNetns();
      await sh(ns.name, ['iptables-restore'], '*filter\n:INPUT ACCEPT [0:0]\n:MINE - [0:0]\n-A INPUT -j MINE\n-A MINE -s 203.0.113.9/32 -j DROP\nCOMMIT\n');
      await sh(ns.name, ['nft', '-f', '-'], 'table inet mine {\n  chain c { type filter hook input priority 5; tcp dport 2222 drop; }\n}\n');
      writeFileSync(files.A, manifests('A', dual));
      writeFileSync(files.B, manifests('B', dual));
    });
    afterAll(async () => {
      await ns?.remove();
      run.remove();
    });

    const lockHolder = (): number | null => {
      try {
        return (JSON.parse(readFileSync(join(run.path, 'apply.lock'), 'utf8')) as { pid: number }).pid;
      } catch {
        return null;
      }
    };

    /** Starts bin/kpc apply in the namespace; resolves when it has taken the lock (i.e. is past compiling) or ended. */
    const start = async (version: 'A' | 'B') => {
      const args = ['apply', '-f', files[version], '--mode', mode, '--node-name', 'node', '--node-ip', '192.0.2.10', '--node-ip', '2001:db8::10', '--cluster-cidr', '10.244.0.0/16', ...(dual ? ['--cluster-cidr', 'fd00:244::/48'] : []), ...extra];
      const child = execa('ip', ['netns', 'exec', ns.name, process.execPath, BIN, ...args], { reject: false, env: { KPC_RUN_DIR: run.path } });
      let ended = false;
      void child.then(() => (ended = true));
      await waitFor(() => ended || lockHolder() === child.pid, 30_000, 'kpc apply to take its lock');
      return { child, ended: () => ended, lockedAt: performance.now() };
    };

    /** Whatever the killed apply had started (orphaned restores) must finish before the state is read. */
    const settle = () => waitFor(async () => String((await execa('ip', ['netns', 'pids', ns.name], { reject: false })).stdout).trim() === '', 15_000, 'processes in the namespace to end');

    it(`${ROUNDS} SIGKILLs at random points; afterwards an apply completes and a repeat reports no change`, async () => {
      const first = await start('A');
      expect((await first.child).exitCode).toBe(0);
      const stateA = await fullDump(ns.name);
      const calibration = await start('B');
      const result = await calibration.child;
      const window = performance.now() - calibration.lockedAt;
      expect(result.exitCode, String(result.stderr)).toBe(0);
      // From here on every apply but a killed one's successor after a foreign-looking state takes the incremental path.
      if (full) expect(String(result.stdout)).not.toContain('incremental');
      else expect(String(result.stdout)).toContain('incremental');
      const stateB = await fullDump(ns.name);
      expect(stateA).not.toBe(stateB);
      // iptables, dual stack: each family's dump (iptables-save, ip6tables-save) old or new on its own is no mix.
      const families = (state: string) => state.split('\n=====\n').slice(0, 2);
      const perFamily = (state: string): 'A' | 'B' | 'MIX' | 'PER-FAMILY' => {
        if (!(mode === 'iptables' && dual)) return 'MIX';
        const [a, b, now] = [families(stateA), families(stateB), families(state)];
        const rest = (dump: string) => dump.split('\n=====\n').slice(2).join('\n=====\n');
        const each = now.every((part, i) => part === a[i] || part === b[i]);
        return each && rest(state) === rest(stateA) && a.some((part, i) => part !== b[i]) ? 'PER-FAMILY' : 'MIX';
      };
      if (mode === 'iptables' && dual) expect(families(stateA).every((part, i) => part !== families(stateB)[i]), 'A and B differ in both families').toBe(true);

      // Delays cover the whole apply after the lock (reading, scratch namespace, checks, commit, read-back), and at least 0-300 ms.
      const span = Math.max(300, window * 1.2);
      const outcomes: string[] = [];
      let current: 'A' | 'B' = 'B';
      for (let round = 0; round < ROUNDS; round++) {
        const next = current === 'A' ? 'B' : 'A';
        const apply = await start(next);
        const delay = Math.random() * span;
        await new Promise((r) => setTimeout(r, delay));
        const finished = apply.ended();
        if (!finished) process.kill(apply.child.pid!, 'SIGKILL');
        await apply.child;
        await settle();
        const state = await fullDump(ns.name);
        const which = state === stateA ? 'A' : state === stateB ? 'B' : perFamily(state);
        outcomes.push(`${Math.round(delay)}ms:${finished ? 'done' : 'killed'}:${which === next ? 'new' : which === 'MIX' || which === 'PER-FAMILY' ? which : 'old'}`);
        expect(which, `round ${round}: killed after ${Math.round(delay)} ms, the rules are neither A nor B`).not.toBe('MIX');
        if (which === 'PER-FAMILY') {
          // One family new, one old: the next apply must bring both to B, whichever it is asked for.
          const mend = await start('B');
          expect((await mend.child).exitCode).toBe(0);
          expect(await fullDump(ns.name), `round ${round}: an apply after a kill between the families brings both to B`).toBe(stateB);
          current = 'B';
          continue;
        }
        current = which as 'A' | 'B';
      }
      console.log(`[apply ${mode}${extra.length ? ' compact' : ''} kill] window ${Math.round(window)} ms; ${outcomes.join(' ')}`);

      const final = await start('B');
      const done = await final.child;
      expect(done.exitCode, String(done.stderr)).toBe(0);
      expect(await fullDump(ns.name)).toBe(stateB);
      const again = await start('B');
      const repeat = await again.child;
      expect(String(repeat.stdout)).toMatch(/^no change/);
      expect(readdirSync(run.path).filter((f) => f.startsWith('pending-') || f === 'apply.lock')).toEqual([]);
    }, 400_000);
  });
});
