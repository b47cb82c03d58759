import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError, UserError } from '../../src/cli/errors.js';
import { readInputs } from '../../src/cli/inputs.js';
import { checkNodeFlags, type RawNodeFlags } from '../../src/cli/node-options.js';
import { tempDir } from '../helpers/cli.js';

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
    const sources = await readInputs(['-', join(dir, 'tree/b.yaml')], async () => 'from stdin');
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
