import { readFileSync } from 'node:fs';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { formatList } from '../../src/cli/simulate.js';
import { compileDns, compileGraph, emit, simulateSources, type CompileOptions } from '../../src/compile.js';
import { InputError } from '../../src/diagnostics/diagnostic.js';
import { formatZone } from '../../src/dns/index.js';
import type { RoutingGraph } from '../../src/graph/types.js';
import { loadSources } from '../../src/load/documents.js';
import { fixtureCases, type FixtureCase } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { Command } from 'commander';
import { addNodeOptions, nodeOptionsFrom, type RawNodeFlags } from '../../src/cli/node-options.js';

/**
 * `kpc simulate` prints what --simulate compiles: for every fixture, with
 * --simulate added where it has none, `kpc generate --simulate` gives the
 * very bytes that `kpc simulate -o x.yaml` then `kpc generate -f x.yaml`
 * (same node flags) give, in every mode and layout, and so does `kpc dns`;
 * simulating simulate's own output changes nothing; and the objects' order
 * does not change simulate's output. The EndpointSlices simulate prints
 * replace the Pods as the source of the Services' endpoints when read back,
 * so this is where slices and pods must agree.
 */

/** The flags that only mean something with --simulate. */
const SIMULATE_ONLY = ['--simulate-nodes', '--load-balancer-pool', '--service-node-port-range'];

function parse(args: string[]): RawNodeFlags {
  const command = addNodeOptions(new Command('fixture')).exitOverride();
  command.parse(args, { from: 'user' });
  return command.opts<RawNodeFlags>();
}

async function optionsOf(args: string[]): Promise<CompileOptions> {
  return nodeOptionsFrom(parse(args));
}

function withSimulate(args: string[]): string[] {
  return args.includes('--simulate') ? args : ['--simulate', ...args];
}

function withoutSimulate(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--simulate') continue;
    if (SIMULATE_ONLY.includes(args[i]!)) i++;
    else out.push(args[i]!);
  }
  return out;
}

/** Every output a graph has: iptables per family, nftables in both layouts, IPVS. */
function outputs(graph: RoutingGraph): Record<string, string> {
  const out: Record<string, string> = {
    iptables: emit(graph, { mode: 'iptables', family: 4 }),
    nftables: emit(graph, { mode: 'nftables', family: 4 }),
    'nftables-compact': emit(graph, { mode: 'nftables', family: 4, layout: 'compact' }),
    ipvs: emit(graph, { mode: 'ipvs', family: 4 }),
  };
  if (graph.servicePorts.some((p) => p.family === 6)) out.ip6tables = emit(graph, { mode: 'iptables', family: 6 });
  return out;
}

function withoutNotes(graph: RoutingGraph): unknown {
  return JSON.parse(JSON.stringify(graph, (key, value: unknown) => (key === 'notes' ? undefined : value)));
}

function sourcesOf(fixture: FixtureCase) {
  return fixture.inputs.map((file) => ({ name: file, text: readFileSync(file, 'utf8') }));
}

/** `kpc simulate`'s List for these sources, or the simulation's errors. */
async function simulated(sources: { name: string; text: string }[], args: string[]): Promise<string> {
  return formatList(simulateSources(sources, await optionsOf(withSimulate(args))).objects, 'yaml');
}

function errorsOf(run: () => unknown): string[] | null {
  try {
    run();
    return null;
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    throw error;
  }
}

describe('kpc simulate round trip, every fixture', () => {
  for (const fixture of fixtureCases()) {
    it(`${fixture.name}: generate --simulate = simulate, then generate without it (every mode, and dns)`, async () => {
      const sources = sourcesOf(fixture);
      const direct = await optionsOf(withSimulate(fixture.args));
      const failed = errorsOf(() => compileGraph(sources, direct));
      if (failed) {
        // A simulation that cannot be made fails the same way in kpc simulate.
        expect(errorsOf(() => simulateSources(sources, direct))).toEqual(failed);
        return;
      }
      const text = await simulated(sources, fixture.args);
      const readBack = [{ name: 'simulated.yaml', text }];
      const plain = await optionsOf(withoutSimulate(fixture.args));
      const [back, straight] = [compileGraph(readBack, plain).graph, compileGraph(sources, direct).graph];
      expect(outputs(back)).toEqual(outputs(straight));
      // The whole graph (what explain and graph read) but the -v notes, which name the endpoints' source.
      expect(withoutNotes(back)).toEqual(withoutNotes(straight));
      const dns = { clusterDomain: 'cluster.local', ttl: 5 };
      expect(formatZone(compileDns(readBack, dns).zone)).toBe(formatZone(compileDns(sources, { ...dns, ...direct }).zone));
    });

    it(`${fixture.name}: simulating simulate's output changes nothing`, async () => {
      const sources = sourcesOf(fixture);
      const options = await optionsOf(withSimulate(fixture.args));
      if (errorsOf(() => simulateSources(sources, options))) return;
      const once = await simulated(sources, fixture.args);
      const twice = await simulated([{ name: 'simulated.yaml', text: once }], fixture.args);
      expect(twice).toBe(once);
    });

    it(`${fixture.name}: simulate's output does not depend on the objects' order`, async () => {
      const sources = sourcesOf(fixture);
      const options = await optionsOf(withSimulate(fixture.args));
      if (errorsOf(() => simulateSources(sources, options))) return;
      const baseline = await simulated(sources, fixture.args);
      const objects = loadSources(sources).objects.map((o) => o.value);
      for (let seed = 1; seed <= 3; seed++) {
        const next = random(seed);
        const order = objects.map((o) => ({ o, k: next() })).sort((a, b) => a.k - b.k).map((e) => e.o);
        const text = order.map((o) => dump(o, { noRefs: true, lineWidth: -1 })).join('---\n');
        expect(await simulated([{ name: 'shuffled.yaml', text }], fixture.args)).toBe(baseline);
      }
    });
  }
});
