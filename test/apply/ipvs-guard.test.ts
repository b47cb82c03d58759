import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApplyRefusedError, applyGraph, type Exec, type Target } from '../../src/apply/index.js';
import { ipvsFrontendNames } from '../../src/apply/services.js';
import { writeRecord } from '../../src/apply/state.js';
import { emitIpvsParts } from '../../src/emit/ipvs/index.js';
import type { RoutingGraph } from '../../src/graph/types.js';
import type { Pod } from '../kernel/harness.js';
import { service, slices } from '../kernel/manifests.js';
import { compile } from './helpers.js';

// IPVS mode through applyGraph itself, on a target that answers apply's reads
// with what kpc loaded earlier (this kernel has no IPVS; the VM suite proves
// the planner's commands against a real one). An input with no Service must
// not reach the planner's deletions: refused before any command that changes
// something, and with allowEmpty only kpc's own virtual services go.

const A: Pod = { name: 'a', netns: '', nodeName: 'node', ips: { 4: ['10.244.1.2'], 6: [] }, ip: { 4: '10.244.1.2' } };
const tcp = [{ port: 80 }];
const base = compile([
  ...['web', 'api', 'db'].flatMap((name, i) => [service(name, { clusterIPs: [`10.96.0.${10 + i}`], ports: tcp }), ...slices(name, tcp, [{ pod: A }])]),
]);
const noClusterIP = compile(['web', 'api', 'db'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'test' }, spec: { ports: [{ port: 80 }] } })));
const FOREIGN = '-A -t 192.0.2.10:22 -s wlc\n-a -t 192.0.2.10:22 -r 10.0.0.5:22 -g -w 1\n';

function part(graph: RoutingGraph, name: string): string {
  return emitIpvsParts(graph).find((p) => p.name === name)?.text ?? '';
}

/**
 * The host as kpc's apply of `base` left it, plus a user's own virtual
 * service. Reads are answered; every other command on the host is recorded
 * (and succeeds); the scratch namespace hands back what was loaded into it.
 */
function host(): { target: Target; changes: string[] } {
  const changes: string[] = [];
  const ok = (stdout = '') => ({ stdout, stderr: '', exitCode: 0 });
  const addresses = [...part(base, 'kube-ipvs0').matchAll(/^address add (\S+)\/(\d+) dev/gm)].map((m) => ({ local: m[1], prefixlen: Number(m[2]) }));
  const live: Record<string, string> = {
    'ipvsadm -S -n': part(base, 'ipvsadm') + FOREIGN,
    'ipset save': part(base, 'ipset'),
    'ip -j addr show dev kube-ipvs0': JSON.stringify([{ ifname: 'kube-ipvs0', addr_info: addresses }]),
  };
  const exec: Exec = async (argv, options = {}) => {
    const command = argv.join(' ');
    if (command in live) return ok(live[command]);
    if (/^ip6?tables-save -t \w+$/.test(command)) return ok('');
    changes.push(`${command}${options.input ? `\n${options.input}` : ''}`);
    return ok();
  };
  const loaded: Record<string, string> = {};
  const scratch: Exec = async (argv, options = {}) => {
    const command = argv.join(' ');
    if (command === 'ipvsadm -R') loaded['ipvsadm -S -n'] = options.input ?? '';
    if (command === 'ipset restore -exist') loaded['ipset save'] = options.input ?? '';
    return ok(loaded[command] ?? '');
  };
  return { target: { exec, prefix: [], description: 'a replayed IPVS host', openScratch: async () => ({ exec: scratch, close() {} }) }, changes };
}

describe('IPVS apply refuses an input that would remove every Service', () => {
  let runDir: string;
  beforeEach(async () => {
    runDir = mkdtempSync(join(tmpdir(), 'kpc-ipvs-guard-'));
    // What the apply of base recorded: its node-port-free virtual services and their Services' names.
    await writeRecord(runDir, { version: 1, udp: [], ipvsServices: [], ipvsNames: ipvsFrontendNames(base) });
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('an empty input and one whose Services have no cluster IP: refused, no command that changes anything runs', async () => {
    for (const [graph, objects, reason] of [
      [compile([]), 0, /the input has no objects/],
      [noClusterIP, 3, /3 Services skipped \(3 with no cluster IP allocated\), so applying it would remove all 3 Services/],
    ] as const) {
      const { target, changes } = host();
      const error = await applyGraph(graph, { mode: 'ipvs', target, runDir, inputObjects: objects }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApplyRefusedError);
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).toMatch(/nothing was changed; .*--allow-empty$/);
      expect((error as ApplyRefusedError).services).toEqual({ added: [], changed: [], removed: ['test/api', 'test/db', 'test/web'], live: 3 });
      expect(changes).toEqual([]);
    }
  });

  it('a dry run says +0 ~0 -3 and that apply would refuse; the planner\'s deletions and the diff leave the foreign service out', async () => {
    const { target, changes } = host();
    const report = await applyGraph(compile([]), { mode: 'ipvs', target, runDir, inputObjects: 0, dryRun: true });
    expect(report.refused).toMatch(/no objects/);
    expect(report.services).toEqual({ added: [], changed: [], removed: ['test/api', 'test/db', 'test/web'], live: 3 });
    expect(report.diff).toMatch(/^-D -t 10\.96\.0\.10:80$/m);
    expect(report.diff).not.toMatch(/192\.0\.2\.10:22/);
    expect(report.semantic).not.toMatch(/192\.0\.2\.10:22/);
    expect(changes).toEqual([]);
  });

  it('--allow-empty: the summary comes first, then only kpc\'s virtual services are deleted', async () => {
    const { target, changes } = host();
    const report = await applyGraph(compile([]), { mode: 'ipvs', target, runDir, inputObjects: 0, allowEmpty: true, onServices: (line) => changes.push(`said: ${line}`) });
    expect(report.changed).toBe(true);
    expect(changes[0]).toBe('said: +0 ~0 -3 services (removed: test/api, test/db, test/web)');
    const deletions = changes.filter((c) => c.startsWith('ipvsadm -R')).join('\n');
    expect(deletions).toMatch(/^-D -t 10\.96\.0\.11:80$/m);
    expect(deletions).not.toMatch(/192\.0\.2\.10:22/);
  });
});
