import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kpc } from '../helpers/cli.js';
import { SERVICE, SLICE } from '../helpers/manifests.js';

const dir = mkdtempSync(join(tmpdir(), 'kpc-validate-'));
const good = join(dir, 'good.yaml');
const bad = join(dir, 'bad.yaml');
writeFileSync(good, SERVICE);
writeFileSync(bad, SLICE.replace('10.244.1.2', '10.244.1.300'));

describe('kpc validate for CI', () => {
  it('takes files as arguments, as pre-commit passes them, alone or with -f', async () => {
    const run = await kpc(['validate', good, bad]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${bad}:10: EndpointSlice shop/web-1: endpoints[0].addresses[0]: "10.244.1.300" is not a valid IPv4 address`);
    expect(run.stderr).toMatch(/2 objects checked: 1 problem/);
    const other = join(dir, 'other.yaml');
    writeFileSync(other, SLICE);
    expect((await kpc(['validate', good, '-f', other])).exitCode).toBe(0);
  });

  it('writes machine formats to stdout, with the same exit status', async () => {
    const json = await kpc(['validate', '--format', 'json', good, bad]);
    expect(json.exitCode).toBe(1);
    const body = JSON.parse(json.stdout);
    expect(body).toMatchObject({ version: 1, valid: false, files: [good, bad], objects: 2, errors: 1, warnings: 0 });
    const sarif = await kpc(['validate', '--format', 'sarif', good]);
    expect(sarif.exitCode).toBe(0);
    expect(JSON.parse(sarif.stdout).runs[0].results).toEqual([]);
    const github = await kpc(['validate', '--format', 'github', bad]);
    expect(github.stdout).toMatch(/^::error file=.*bad\.yaml,line=10,title=kpc%3A EndpointSlice shop\/web-1%3A endpoints\[0\]\.addresses\[0\]::/);
    const junit = await kpc(['validate', '--format', 'junit', good, bad]);
    expect(junit.stdout).toMatch(/<testsuites name="kpc validate" tests="2" failures="1"/);
  });

  it('refuses an unknown format and a call with no manifests as usage errors', async () => {
    const format = await kpc(['validate', '--format', 'tap', good]);
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toMatch(/--format "tap": use one of text, json, junit, github, sarif/);
    expect((await kpc(['validate'])).exitCode).toBe(2);
  });
});
