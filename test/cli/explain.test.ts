import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectNoStackTrace, kpc, tempDir } from '../helpers/cli.js';
import { NODE_FLAGS, SERVICE, SLICE, yamlDocs } from '../helpers/manifests.js';

/**
 * `kpc explain` as a user runs it: generate's conventions (exit 0 / 1 bad
 * input / 2 usage, -o FILE written atomically, never a stack trace), plus
 * -o json, --rules for a rule file, and IPVS refused with a clear message.
 */

const dir = tempDir('kpc-explain-');
const MANIFESTS = join(dir, 'shop.yaml');
writeFileSync(MANIFESTS, yamlDocs(SERVICE, SLICE));
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const explain = (...args: string[]) => kpc(['explain', ...args]);
const POD_TO_WEB = ['--from', '10.244.1.9', '--to', '10.96.0.10:80'];

describe('kpc explain', () => {
  it('traces compiled manifests and prints the rules, then the outcome', async () => {
    for (const mode of ['iptables', 'nftables']) {
      const run = await explain('-f', MANIFESTS, '--mode', mode, ...NODE_FLAGS, ...POD_TO_WEB);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toContain('enters: PREROUTING: the packet comes from a pod');
      expect(run.stdout).toContain('matched rules, in order:');
      expect(run.stdout).toMatch(/100%\s+backend 10\.244\.1\.2:8080 \(shop\/web:http\), not masqueraded: the backend sees 10\.244\.1\.9/);
    }
  });

  it('-o json prints JSON; -o FILE writes the file (in --format) and nothing to stdout', async () => {
    const json = await explain('-f', MANIFESTS, '--mode', 'nftables', ...NODE_FLAGS, ...POD_TO_WEB, '-o', 'json');
    expect(json.exitCode, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.outcomes).toEqual([{ kind: 'backend', probability: 1, share: '1', service: 'shop/web:http', endpoint: '10.244.1.2:8080', masquerade: false }]);
    expect(parsed.paths[0].steps.length).toBeGreaterThan(2);
    const file = join(dir, 'trace.json');
    const toFile = await explain('-f', MANIFESTS, '--mode', 'nftables', ...NODE_FLAGS, ...POD_TO_WEB, '-o', file, '--format', 'json');
    expect(toFile.exitCode, toFile.stderr).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(parsed);
  });

  it('--rules traces a rule file as given, with the node address from --node-ip', async () => {
    const rules = join(FIXTURES, 'external-traffic-local', 'expected');
    for (const file of ['iptables.rules', 'nftables.nft']) {
      // The node port of a Local service with no endpoint on this node: dropped for outside clients.
      const run = await explain('--rules', join(rules, file), '--node-ip', '192.0.2.10', '--from', '203.0.113.5', '--to', '192.0.2.10:30083', '-o', 'json');
      expect(run.exitCode, run.stderr).toBe(3);
      expect(JSON.parse(run.stdout).outcomes).toEqual([{ kind: 'drop', probability: 1, share: '1', service: 'default/elsewhere', reason: expect.stringMatching(/^no local endpoint/) }]);
    }
  });

  it('exit status says where the packet ends: 0 a backend on every way, 3 refused on some way, 4 not translated', async () => {
    const run = (mode: string, to: string, ...more: string[]) => explain('-f', MANIFESTS, '--mode', mode, ...NODE_FLAGS, '--from', '10.244.1.9', '--to', to, ...more);
    for (const mode of ['iptables', 'nftables']) {
      const delivered = await run(mode, '10.96.0.10:80', '-o', 'json');
      expect(delivered.exitCode, delivered.stderr).toBe(0);
      expect(JSON.parse(delivered.stdout).result).toBe('backend');
    }
    // A port the Service does not have: nftables rejects it (cluster-ips-check); iptables has no rule for it.
    const rejected = await run('nftables', '10.96.0.10:81', '-o', 'json');
    expect(rejected.exitCode, rejected.stderr).toBe(3);
    expect(JSON.parse(rejected.stdout).result).toBe('refused');
    const untranslated = await run('iptables', '10.96.0.10:81');
    expect(untranslated.exitCode, untranslated.stderr).toBe(4);
    expect(untranslated.stdout).toMatch(/no rule translates this destination/);
    // The file is written whatever the verdict.
    const file = join(dir, 'rejected.txt');
    expect((await run('nftables', '10.96.0.10:81', '-o', file)).exitCode).toBe(3);
    expect(readFileSync(file, 'utf8')).toMatch(/REJECT/);
  });

  it('usage errors exit 2 before reading anything; IPVS is refused with a clear message', async () => {
    const ipvs = join(FIXTURES, 'clusterip-basic', 'expected', 'ipvs.txt');
    const cases: [string[], RegExp][] = [
      [['-f', MANIFESTS, '--mode', 'iptables', '--to', '10.96.0.10:80'], /--from/],
      [['-f', MANIFESTS, '--mode', 'iptables', '--from', 'pod', '--to', '10.96.0.10:80'], /--from "pod" is not an IP address/],
      [['-f', MANIFESTS, '--mode', 'iptables', '--from', '10.244.1.9', '--to', '10.96.0.10'], /--to "10.96.0.10": use DST:PORT/],
      [['-f', MANIFESTS, '--mode', 'iptables', '--from', '10.244.1.9', '--to', '10.96.0.10:80/icmp'], /protocol "icmp"/],
      [['-f', MANIFESTS, '--mode', 'iptables', '--from', 'fd00::1', '--to', '10.96.0.10:80'], /different IP families/],
      [['-f', MANIFESTS, '--from', '10.244.1.9', '--to', '10.96.0.10:80'], /-f needs --mode/],
      [['-f', MANIFESTS, '--rules', ipvs, '--mode', 'iptables', ...POD_TO_WEB], /either -f MANIFESTS --mode MODE, or --rules FILE/],
      [[...POD_TO_WEB], /either -f MANIFESTS --mode MODE, or --rules FILE/],
      [['-f', MANIFESTS, '--mode', 'ipvs', ...POD_TO_WEB], /does not support IPVS yet/],
      [['--rules', ipvs, ...POD_TO_WEB], /does not support IPVS yet/],
      [['-f', MANIFESTS, '--mode', 'iptables', ...POD_TO_WEB, '--format', 'yaml'], /--format "yaml": use text, json/],
    ];
    for (const [args, message] of cases) {
      const run = await explain(...args);
      expect(run.exitCode, `${args.join(' ')}\n${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(message);
      expectNoStackTrace(run);
    }
  });

  it('bad input exits 1 and writes nothing', async () => {
    const out = join(dir, 'never.txt');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, SERVICE.replace('port: 80', 'port: 70000'));
    const invalid = await explain('-f', bad, '--mode', 'iptables', ...NODE_FLAGS, ...POD_TO_WEB, '-o', out);
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stderr).toMatch(/spec\.ports\[0\]\.port: must be an integer from 1 to 65535/);
    const missing = await explain('--rules', join(dir, 'nope.rules'), ...POD_TO_WEB);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/nope\.rules: no such file/);
    const notRules = await explain('--rules', MANIFESTS, ...POD_TO_WEB);
    expect(notRules.exitCode).toBe(1);
    expect(notRules.stderr).toMatch(/not a rule set kpc can read/);
    for (const run of [invalid, missing, notRules]) expectNoStackTrace(run);
    expect(() => readFileSync(out)).toThrow();
  });
});
