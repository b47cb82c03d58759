import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectNoStackTrace, kpc, tempDir } from '../helpers/cli.js';
import { NODE_FLAGS, SERVICE, SLICE, yamlDocs } from '../helpers/manifests.js';

/**
 * Two EndpointSlice dumps of a leader failover (endpoint .90 replaced by .91)
 * with no Service in either: once compiled to nothing on both sides and
 * compared as "same". Every command that reads manifests now warns about the
 * slices, and diff says it found nothing to compare and exits 2. (apply reads
 * manifests through the same compileGraph, tested in test/resolve/orphans.)
 */

const dir = tempDir('kpc-orphans-');
const slice = (ip: string) => SLICE.replace('10.244.1.2', ip);
const BEFORE = join(dir, 'before.yaml');
const AFTER = join(dir, 'after.yaml');
writeFileSync(BEFORE, slice('10.244.1.90'));
writeFileSync(AFTER, slice('10.244.1.91'));
const WARNING = /^warning: .*before\.yaml:6: EndpointSlice shop\/web-1: metadata\.labels\["kubernetes\.io\/service-name"\]: its Service shop\/web is not in the input/m;

describe('EndpointSlices without their Service', () => {
  it('are warned about by validate, generate, graph, dns and explain', async () => {
    const runs = {
      validate: await kpc(['validate', '-f', BEFORE]),
      generate: await kpc(['generate', '-f', BEFORE, '--mode', 'nftables', ...NODE_FLAGS]),
      graph: await kpc(['graph', '-f', BEFORE, ...NODE_FLAGS]),
      dns: await kpc(['dns', '-f', BEFORE]),
      explain: await kpc(['explain', '-f', BEFORE, '--mode', 'iptables', ...NODE_FLAGS, '--from', '10.244.1.9', '--to', '10.96.0.10:80']),
    };
    for (const [command, run] of Object.entries(runs)) {
      expect(run.stderr, command).toMatch(WARNING);
      expectNoStackTrace(run);
    }
    for (const command of ['validate', 'generate', 'graph', 'dns'] as const) expect(runs[command].exitCode, command).toBe(0);
    expect(runs.explain.exitCode).toBe(4);
  });

  it('diff of two slice dumps and no Service: nothing to compare, exit 2', async () => {
    const run = await kpc(['diff', BEFORE, AFTER, '--mode', 'nftables', ...NODE_FLAGS]);
    expect(run.exitCode, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(WARNING);
    expect(run.stderr).toMatch(/after\.yaml:6: EndpointSlice shop\/web-1: .*its Service shop\/web is not in the input/);
    expect(run.stderr).toMatch(/nothing to compare: neither side has a service frontend/);
    expect(run.stdout).toBe('');
    expectNoStackTrace(run);
  });

  it('diff with the Service on one side compares as usual', async () => {
    const withService = join(dir, 'with-service.yaml');
    writeFileSync(withService, yamlDocs(SERVICE, slice('10.244.1.91')));
    const run = await kpc(['diff', BEFORE, withService, '--mode', 'nftables', ...NODE_FLAGS]);
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/shop\/web:http/);
    const same = await kpc(['diff', withService, withService, '--mode', 'nftables', ...NODE_FLAGS]);
    expect(same.exitCode, same.stderr).toBe(0);
  });
});
