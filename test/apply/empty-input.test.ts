import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readRuleSet } from '../../src/read/index.js';
import type { Pod } from '../kernel/harness.js';
import { describeKernel } from '../kernel/harness.js';
import { service, slices, toYaml } from '../kernel/manifests.js';
import { BIN } from '../helpers/cli.js';
import { bareNetns, fullDump, runDir, sh } from './helpers.js';

// An input that compiles to no Service (an empty file, a dump cut short, a
// rendered chart whose Services have no cluster IP yet) must not wipe the
// host's service rules: apply refuses it (exit 1) unless --allow-empty says
// so, and every apply and dry run that changes Services says +N ~M -K first.
// Through bin/kpc, in a bare namespace, for both modes this kernel has.

const NODE_IP = '192.0.2.10';
const pod = (name: string, ip: string): Pod => ({ name, netns: '', nodeName: 'node', ips: { 4: [ip], 6: [] }, ip: { 4: ip } });
const A = pod('a', '10.244.1.2');
const tcp = [{ port: 80 }];

/** Three Services, each with an endpoint. */
const THREE = [
  ...['web', 'api', 'db'].flatMap((name, i) => [service(name, { clusterIPs: [`10.96.0.${10 + i}`], ports: tcp }), ...slices(name, tcp, [{ pod: A }])]),
];
/** web kept, api changed (no endpoint now), db gone, cache new. */
const NEXT = [
  service('web', { clusterIPs: ['10.96.0.10'], ports: tcp }),
  ...slices('web', tcp, [{ pod: A }]),
  service('api', { clusterIPs: ['10.96.0.11'], ports: tcp }),
  service('cache', { clusterIPs: ['10.96.0.30'], ports: tcp }),
  ...slices('cache', tcp, [{ pod: A }]),
];
/** As a chart renders them: no cluster IP, so kube-proxy (and kpc) skip them. */
const NO_CLUSTER_IP = ['web', 'api', 'db'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'test' }, spec: { ports: [{ port: 80 }] } }));

const MODES = ['iptables', 'nftables'] as const;

/** kpc's frontends on the host, read back with kpc's own reader. */
async function frontends(netns: string, mode: (typeof MODES)[number]): Promise<number> {
  const text = mode === 'iptables' ? await sh(netns, ['iptables-save']) : await sh(netns, ['nft', 'list', 'ruleset']);
  return readRuleSet(text, mode).frontends.size;
}

describeKernel('kpc apply refuses an input that would remove every Service', () => {
  let ns: Awaited<ReturnType<typeof bareNetns>>;
  const run = runDir();
  const file = (name: string, objects: object[] | string) => {
    const path = join(run.path, name);
    writeFileSync(path, typeof objects === 'string' ? objects : toYaml(objects));
    return path;
  };
  const apply = async (path: string, mode: string, ...extra: string[]) => {
    const args = ['apply', '-f', path, '--mode', mode, '--node-name', 'node', '--node-ip', NODE_IP, '--cluster-cidr', '10.244.0.0/16', '-q', ...extra];
    const result = await execa('ip', ['netns', 'exec', ns.name, process.execPath, BIN, ...args], { reject: false, env: { KPC_RUN_DIR: run.path, KPC_DEBUG: '' } });
    return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
  };

  beforeAll(async () => {
    ns = await bareNetns();
  });
  afterAll(async () => {
    await ns?.remove();
    run.remove();
  });

  it.each(MODES)('%s: empty, comment-only and no-cluster-IP inputs exit 1 and leave the rules byte-identical; --dry-run shows -3; --allow-empty removes them', async (mode) => {
    const three = await apply(file('three.yaml', THREE), mode);
    expect(three.exitCode, three.stderr).toBe(0);
    expect(three.stdout).toMatch(/^\+3 ~0 -0 services$/m);
    expect(await frontends(ns.name, mode)).toBe(3);
    const before = await fullDump(ns.name);

    for (const [name, text] of [
      ['empty.yaml', ''],
      ['comments.yaml', '# kubectl get svc -o yaml, cut short\n---\n'],
    ] as const) {
      const result = await apply(file(name, text), mode);
      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/refusing to apply: the input has no objects.*--allow-empty/s);
      expect(result.stderr).not.toMatch(/^ {4}at /m);
      expect(await fullDump(ns.name)).toBe(before);
    }

    const skipped = await apply(file('no-cluster-ip.yaml', NO_CLUSTER_IP), mode);
    expect(skipped.exitCode, skipped.stderr).toBe(1);
    expect(skipped.stdout).toMatch(/^\+0 ~0 -3 services/m);
    expect(skipped.stderr).toMatch(/3 Services skipped \(3 with no cluster IP allocated\)/);
    expect(skipped.stderr).toMatch(/remove all 3 Services kpc has on this host.*--allow-empty/s);
    expect(await fullDump(ns.name)).toBe(before);

    // A dry run says the same and changes nothing.
    const dry = await apply(file('empty.yaml', ''), mode, '--dry-run');
    expect(dry.exitCode, dry.stderr).toBe(1);
    expect(dry.stdout).toMatch(/^\+0 ~0 -3 services \(removed: test\/api, test\/db, test\/web\)$/m);
    expect(dry.stdout).toMatch(/^dry run: kpc apply would refuse this without --allow-empty/m);
    expect(dry.stderr).toMatch(/^kpc: kpc apply would refuse this: the input has no objects.*--allow-empty$/m);
    expect(await fullDump(ns.name)).toBe(before);

    // What is removed is said before it is removed, and the dry run agrees with the apply.
    const nextDry = await apply(file('next.yaml', NEXT), mode, '--dry-run');
    expect(nextDry.exitCode, nextDry.stderr).toBe(0);
    expect(nextDry.stdout).toMatch(/^\+1 ~1 -1 services \(removed: test\/db\)$/m);
    expect(await fullDump(ns.name)).toBe(before);
    const next = await apply(file('next.yaml', NEXT), mode);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/^\+1 ~1 -1 services \(removed: test\/db\)\napplied: /m);
    expect(await frontends(ns.name, mode)).toBe(3);

    const allowed = await apply(file('empty.yaml', ''), mode, '--allow-empty');
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/^\+0 ~0 -3 services/m);
    expect(await frontends(ns.name, mode)).toBe(0);

    // With no Service of kpc's left, an input with none removes nothing, but one with no objects is still refused.
    expect((await apply(file('no-cluster-ip.yaml', NO_CLUSTER_IP), mode)).exitCode).toBe(0);
    expect((await apply(file('empty.yaml', ''), mode)).exitCode).toBe(1);
  }, 90_000);
});
