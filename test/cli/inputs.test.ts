import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { UsageError, UserError } from '../../src/cli/errors.js';
import { maxInputBytes, readInputs } from '../../src/cli/inputs.js';
import { checkNodeFlags, type RawNodeFlags } from '../../src/cli/node-options.js';
import { BIN, ROOT, expectNoStackTrace, tempDir } from '../helpers/cli.js';

/** Standard input as the given chunks. */
const chunks = (parts: string[]) => async function* () {
  for (const part of parts) yield Buffer.from(part);
};

const dir = tempDir('kpc-inputs-');
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
};

describe('readInputs', () => {
  write('tree/b.yaml', 'b');
  write('tree/a/z.yml', 'z');
  write('tree/a/y.JSON', 'y');
  write('tree/c/d/e.yaml', 'e');
  write('tree/B.yaml', 'B');
  write('tree/notes.md', 'ignored');
  write('tree/x.yaml.bak', 'ignored');
  write('tree/yaml', 'ignored: no extension');

  it('reads a folder recursively in name order, only *.yaml, *.yml and *.json', async () => {
    const sources = await readInputs([join(dir, 'tree')]);
    expect(sources.map((s) => s.name)).toEqual(['tree/B.yaml', 'tree/a/y.JSON', 'tree/a/z.yml', 'tree/b.yaml', 'tree/c/d/e.yaml'].map((f) => join(dir, f)));
    expect(sources.map((s) => s.text)).toEqual(['B', 'y', 'z', 'b', 'e']);
  });

  it('keeps the order of -f arguments, and reads a file named explicitly whatever its extension', async () => {
    const sources = await readInputs([join(dir, 'tree/b.yaml'), join(dir, 'tree/notes.md'), join(dir, 'tree/a')]);
    expect(sources.map((s) => s.text)).toEqual(['b', 'ignored', 'y', 'z']);
  });

  it("reads '-' from standard input, named '-'", async () => {
    const sources = await readInputs(['-', join(dir, 'tree/b.yaml')], { stdin: chunks(['from ', 'stdin']) });
    expect(sources).toEqual([
      { name: '-', text: 'from stdin' },
      { name: join(dir, 'tree/b.yaml'), text: 'b' },
    ]);
  });

  it('says which path is missing and where it came from', async () => {
    const missing = join(dir, 'missing.yaml');
    await expect(readInputs([missing])).rejects.toThrow(new UserError(`${missing}: no such file or folder; check the path given to -f`));
  });

  it('refuses a folder with no manifests (an empty rule set would wipe a node)', async () => {
    mkdirSync(join(dir, 'empty'));
    await expect(readInputs([join(dir, 'empty')])).rejects.toThrow(/no \*\.yaml, \*\.yml or \*\.json files in this folder/);
  });
});

describe('input limits', () => {
  it('stops reading standard input as soon as it passes the limit, and says what to do', async () => {
    let pulled = 0;
    // Far longer than the limit (and finite, so that a reader that does not stop fails here rather than hangs).
    async function* endless() {
      for (; pulled < 1000; ) {
        pulled++;
        yield Buffer.alloc(1000, 'a');
      }
    }
    await expect(readInputs(['-'], { stdin: endless, maxBytes: 10_000 })).rejects.toThrow(
      new UserError('standard input: more than 10000 bytes, the most kpc reads from one input (KPC_MAX_INPUT_BYTES); split it into files, or raise the limit'),
    );
    expect(pulled).toBe(11);
  });

  it('reads standard input of exactly the limit', async () => {
    const [source] = await readInputs(['-'], { stdin: chunks(['12345', '67890']), maxBytes: 10 });
    expect(source!.text).toBe('1234567890');
  });

  it('refuses a file over the limit without reading it, and bounds a device that never ends', async () => {
    const big = write('limits/big.yaml', 'x'.repeat(2000));
    await expect(readInputs([big], { maxBytes: 1000 })).rejects.toThrow(new UserError(`${big}: more than 1000 bytes, the most kpc reads from one input (KPC_MAX_INPUT_BYTES); split it into files, or raise the limit`));
    await expect(readInputs(['/dev/zero'], { maxBytes: 1 << 20 })).rejects.toThrow(/^\/dev\/zero: more than 1048576 bytes/);
  });

  it('takes the limit from KPC_MAX_INPUT_BYTES, 256 MiB by default, and refuses one no string can hold', () => {
    expect(maxInputBytes({})).toBe(256 * 1024 * 1024);
    expect(maxInputBytes({ KPC_MAX_INPUT_BYTES: '1000' })).toBe(1000);
    expect(() => maxInputBytes({ KPC_MAX_INPUT_BYTES: '1e3' })).toThrow(UsageError);
    expect(() => maxInputBytes({ KPC_MAX_INPUT_BYTES: '0' })).toThrow(UsageError);
    expect(() => maxInputBytes({ KPC_MAX_INPUT_BYTES: String(2 ** 30) })).toThrow(/at most 536870888/);
  });

  it('ends kpc with exit 1 and one clear line on an endless standard input, without growing', async () => {
    const child = spawn(process.execPath, [BIN, 'validate', '-f', '-'], { cwd: ROOT, env: { ...process.env, KPC_DEBUG: '', NODE_OPTIONS: '', KPC_MAX_INPUT_BYTES: '1000000' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {});
    const block = Buffer.alloc(64 * 1024, 'a');
    const feed = (): void => {
      while (child.stdin.writable && child.stdin.write(block));
      if (child.stdin.writable) child.stdin.once('drain', feed);
    };
    feed();
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(1);
    expect(stderr).toBe('kpc: standard input: more than 1000000 bytes, the most kpc reads from one input (KPC_MAX_INPUT_BYTES); split it into files, or raise the limit\n');
  });
});

describe('rule-set files read by diff and explain', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [BIN, ...args], { reject: false, cwd: ROOT, env: { KPC_DEBUG: '', NODE_OPTIONS: '', ...env }, stdin: 'ignore' });
  const rules = write('rules/a.rules', `*nat\n:KUBE-SERVICES - [0:0]\n${'# padding\n'.repeat(200)}COMMIT\n`);

  it('are held to the same input limit', async () => {
    const limit = { KPC_MAX_INPUT_BYTES: '1000' };
    const explained = await run(['explain', '--rules', rules, '--from', '10.0.0.1', '--to', '10.96.0.10:80'], limit);
    expect([explained.exitCode, explained.stderr]).toEqual([1, `kpc: ${rules}: more than 1000 bytes, the most kpc reads from one input (KPC_MAX_INPUT_BYTES); split it into files, or raise the limit`]);
    const diffed = await run(['diff', rules, rules], limit);
    expect([diffed.exitCode, diffed.stderr]).toEqual([2, `kpc: ${rules}: more than 1000 bytes, the most kpc reads from one input (KPC_MAX_INPUT_BYTES); split it into files, or raise the limit`]);
  });

  it('name a path that cannot be read instead of failing inside kpc', async () => {
    const loop = join(dir, 'rules/loop.rules');
    symlinkSync('loop.rules', loop);
    const diffed = await run(['diff', loop, rules]);
    expect([diffed.exitCode, diffed.stderr]).toEqual([2, `kpc: ${loop}: cannot be read (ELOOP: a symbolic link that leads back to itself); fix or remove the link`]);
  });
});

describe('input folders', () => {
  const warnings = () => {
    const seen: Diagnostic[] = [];
    return { seen, warn: (d: Diagnostic) => seen.push(d) };
  };

  it('skips what is not a regular file (a FIFO would block forever) with a warning naming it', async () => {
    write('special/a.yaml', 'a');
    await execa('mkfifo', [join(dir, 'special/pipe.yaml')]);
    mkdirSync(join(dir, 'special/folder.yaml'));
    write('special/folder.yaml/inside.yaml', 'inside');
    const { seen, warn } = warnings();
    const sources = await readInputs([join(dir, 'special')], { warn });
    expect(sources.map((s) => s.text)).toEqual(['a', 'inside']);
    expect(seen).toEqual([{ severity: 'warning', file: join(dir, 'special/pipe.yaml'), line: null, object: null, field: null, message: 'is a FIFO, not a regular file; skipped' }]);
  });

  it('reads a symbolic link to a file, and says why a link to a folder is not followed', async () => {
    write('links/target/t.yaml', 't');
    mkdirSync(join(dir, 'links/in'));
    symlinkSync(join(dir, 'links/target/t.yaml'), join(dir, 'links/in/file.yaml'));
    symlinkSync(join(dir, 'links/target'), join(dir, 'links/in/folder'));
    const { seen, warn } = warnings();
    const sources = await readInputs([join(dir, 'links/in')], { warn });
    expect(sources.map((s) => [s.name, s.text])).toEqual([[join(dir, 'links/in/file.yaml'), 't']]);
    expect(seen.map((d) => `${d.file}: ${d.message}`)).toEqual([`${join(dir, 'links/in/folder')}: is a symbolic link to a folder, which is not followed; give it with -f to read it`]);
  });

  it('reports a symbolic link loop as an input error naming it', async () => {
    mkdirSync(join(dir, 'loop'));
    symlinkSync('b.yaml', join(dir, 'loop/a.yaml'));
    symlinkSync('a.yaml', join(dir, 'loop/b.yaml'));
    await expect(readInputs([join(dir, 'loop')])).rejects.toThrow(new UserError(`${join(dir, 'loop/a.yaml')}: cannot be read (ELOOP: a symbolic link that leads back to itself); fix or remove the link`));
    await expect(readInputs([join(dir, 'loop/b.yaml')])).rejects.toThrow(new UserError(`${join(dir, 'loop/b.yaml')}: cannot be read (ELOOP: a symbolic link that leads back to itself); fix or remove the link`));
  });

  it('reports an unreadable folder or file as an input error naming it, exit 1 (run as an unprivileged user: root reads anything)', async () => {
    const tree = join(dir, 'locked');
    write('locked/a.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n');
    write('locked/closed/b.yaml', 'b');
    write('locked/unreadable.yaml', 'c');
    chmodSync(dir, 0o755);
    chmodSync(join(tree, 'closed'), 0o000);
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = (path: string) => execa(process.execPath, [BIN, 'validate', '-f', path], { ...asNobody, reject: false, cwd: ROOT, env: { KPC_DEBUG: '', NODE_OPTIONS: '' }, stdin: 'ignore' });
    let folder;
    try {
      folder = await run(tree);
    } finally {
      // So that the temporary folder can be removed, whatever happened.
      chmodSync(join(tree, 'closed'), 0o755);
    }
    expect(folder.exitCode).toBe(1);
    expect(folder.stderr).toBe(`kpc: ${join(tree, 'closed')}: cannot be read (EACCES: permission denied); check its permissions`);
    chmodSync(join(tree, 'unreadable.yaml'), 0o000);
    const file = await run(tree);
    chmodSync(join(tree, 'unreadable.yaml'), 0o644);
    expect(file.exitCode).toBe(1);
    expect(file.stderr).toBe(`kpc: ${join(tree, 'unreadable.yaml')}: cannot be read (EACCES: permission denied); check its permissions`);
    expectNoStackTrace({ exitCode: 1, stdout: '', stderr: folder.stderr + file.stderr });
  });
});

describe('checkNodeFlags', () => {
  const flags = (extra: Partial<RawNodeFlags>): RawNodeFlags => ({ nodeIp: [], clusterCidr: [], ...extra });
  const usage = (extra: Partial<RawNodeFlags>) => {
    try {
      checkNodeFlags(flags(extra));
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    return null;
  };

  it('accepts a dual-stack node', () => {
    expect(usage({ nodeName: 'node-a.example', nodeIp: ['192.0.2.10', '2001:db8::10'], clusterCidr: ['10.244.0.0/16', 'fd00:10:244::/56'], zone: 'zone-a' })).toBeNull();
  });

  it.each([
    [{ nodeName: 'Node_A' }, /^--node-name "Node_A": must be a DNS-1123 subdomain/],
    [{ nodeName: 'node\n-A INPUT -j ACCEPT' }, /^--node-name "node\\n-A INPUT -j ACCEPT": must be/],
    [{ zone: 'zone a' }, /^--zone "zone a": must be empty or letters/],
    [{ nodeIp: ['192.0.2.10', '10.1'] }, /^--node-ip "10\.1" is not an IP address$/],
    [{ nodeIp: ['fe80::1%eth0'] }, /^--node-ip "fe80::1%eth0" is not an IP address$/],
    [{ clusterCidr: ['10.244.0.0'] }, /^--cluster-cidr "10\.244\.0\.0" is not a CIDR such as 10\.244\.0\.0\/16$/],
    [{ clusterCidr: ['10.244.0.0/33'] }, /^--cluster-cidr "10\.244\.0\.0\/33" is not a CIDR/],
    [{ clusterCidr: ['10.244.0.0/16', '10.245.0.0/16'] }, /^--cluster-cidr: give at most one IPv4 CIDR/],
    [{ clusterCidr: ['fd00::/64', 'fd01::/64'] }, /^--cluster-cidr: give at most one IPv6 CIDR/],
  ] as [Partial<RawNodeFlags>, RegExp][])('rejects %j', (extra, message) => {
    expect(usage(extra)).toMatch(message);
  });
});
