import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectNoStackTrace, kpc, stderrLines, tempDir } from '../helpers/cli.js';
import { SERVICE, SLICE, lineOf, yamlDocs } from '../helpers/manifests.js';

/** `kpc validate`: how many objects it checked, every problem, exit 1 on errors only. */

const dir = tempDir('kpc-validate-');
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
};

describe.concurrent('kpc validate', () => {
  it('exits 0 on valid input and says how many objects it checked', async () => {
    const run = await kpc(['validate', '-f', write('valid.yaml', yamlDocs(SERVICE, SLICE))]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('');
    expect(stderrLines(run)).toEqual(['2 objects checked: valid']);
  });

  it('exits 1 listing every problem in every file, List items counted one by one', async () => {
    const services = yamlDocs(SERVICE.replace('10.96.0.10', '10.96.0.256'), SERVICE.replace('name: web', 'name: api').replace('port: 80', 'port: 70000'));
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, status: { podIP: '10.244.1.300' } }, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } }] }, null, 2);
    const a = write('invalid/services.yaml', services);
    const b = write('invalid/list.json', list);
    const run = await kpc(['validate', '-f', join(dir, 'invalid')]);
    expect(run.exitCode).toBe(1);
    expectNoStackTrace(run);
    // Folders are read in name order: list.json before services.yaml.
    expect(stderrLines(run)).toEqual([
      `${b}:${lineOf(list, '10.244.1.300')}: Pod shop/p: status.podIP: "10.244.1.300" is not a valid IP address`,
      `${a}:7: Service shop/web: spec.clusterIP: "10.96.0.256" is not a valid IP address`,
      `${a}:${lineOf(services, '70000')}: Service shop/api: spec.ports[0].port: must be an integer from 1 to 65535; got 70000`,
      '4 objects checked: 3 problems',
    ]);
  });

  it('only warns about an unknown kind and an EndpointSlice without its Service label: exit 0', async () => {
    const text = yamlDocs(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n',
      SLICE.replace('  labels: { kubernetes.io/service-name: web }\n', ''),
    );
    const file = write('warnings.yaml', text);
    const run = await kpc(['validate', '-f', file]);
    expect(run.exitCode).toBe(0);
    expect(stderrLines(run)).toEqual([
      // The labels are missing, so the nearest enclosing field, metadata (line 9), is named.
      `warning: ${file}:9: EndpointSlice shop/web-1: metadata.labels: has no kubernetes.io/service-name label, so it belongs to no Service and is ignored`,
      // Unread kinds: one line per kind (-v lists each object).
      'warning: 1 object of kind "Deployment" skipped: not a kind kpc reads (-v lists each)',
      '2 objects checked: valid, 2 warnings',
    ]);
    const verbose = await kpc(['validate', '-v', '-f', file]);
    expect(stderrLines(verbose)[0]).toBe(`warning: ${file}:2: Deployment shop/web: kind: "Deployment" is not a kind kpc reads; skipped`);
  });

  it('exits 1 on a missing path and 2 on a usage error, without a stack trace', async () => {
    const [missing, noFile, badFlag] = await Promise.all([
      kpc(['validate', '-f', join(dir, 'nope.yaml')]),
      kpc(['validate']),
      kpc(['validate', '-f', join(dir, 'nope.yaml'), '--mode', 'iptables']),
    ]);
    expect(missing.exitCode).toBe(1);
    expect(stderrLines(missing)).toEqual([`kpc: ${join(dir, 'nope.yaml')}: no such file or folder; check the path given to -f`]);
    expect(noFile.exitCode).toBe(2);
    expect(noFile.stderr).toMatch(/give the manifests to check: kpc validate FILE... or -f PATH/);
    expect(badFlag.exitCode).toBe(2);
    expect(badFlag.stderr).toMatch(/unknown option '--mode'/);
    for (const run of [missing, noFile, badFlag]) expectNoStackTrace(run);
  });
});
