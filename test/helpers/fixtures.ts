import type { NftLayout } from '../../src/compile.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileDns, compileGraph, emit, simulateSources, type Mode } from '../../src/compile.js';
import { formatList } from '../../src/cli/simulate.js';
import { formatZone } from '../../src/dns/index.js';
import { Command } from 'commander';
import { addNodeOptions, nodeOptionsFrom, type RawNodeFlags } from '../../src/cli/node-options.js';
import { inputOptionsFrom } from '../../src/cli/input-options.js';
import type { IPFamily, RoutingGraph } from '../../src/graph/types.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');

export interface FixtureCase {
  name: string;
  dir: string;
  inputs: string[];
  args: string[];
}

/** Every case under fixtures/: its input.* files and the generate flags in args.json. */
export function fixtureCases(): FixtureCase[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = join(FIXTURES, name);
      const inputs = readdirSync(dir).filter((f) => f.startsWith('input')).sort().map((f) => join(dir, f));
      const args = existsSync(join(dir, 'args.json')) ? (JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) as string[]) : [];
      return { name, dir, inputs, args: args.map((a, i) => (args[i - 1] === '--config' ? join(dir, a) : a)) };
    });
}

/** Compiles a fixture in-process with the same flag handling as the CLI. */
export async function compileFixture(fixture: FixtureCase): Promise<RoutingGraph> {
  const flags = parseNodeArgs(fixture.args);
  const sources = fixture.inputs.map((file) => ({ name: file, text: readFileSync(file, 'utf8') }));
  return compileGraph(sources, await nodeOptionsFrom(flags)).graph;
}

export function render(graph: RoutingGraph, mode: Mode, family: IPFamily = 4, layout: NftLayout = 'kube-proxy'): string {
  return emit(graph, { mode, family, layout });
}

/** Parses a fixture's args.json with the CLI's own node flags, so fixtures exercise the real parsing. */
function parseNodeArgs(args: string[]): RawNodeFlags {
  const command = addNodeOptions(new Command('fixture')).exitOverride();
  command.parse(args, { from: 'user' });
  return command.opts<RawNodeFlags>();
}

/** kpc simulate's List for a fixture compiled with --simulate. */
export async function renderSimulated(fixture: FixtureCase): Promise<string> {
  const sources = fixture.inputs.map((file) => ({ name: file, text: readFileSync(file, 'utf8') }));
  return formatList(simulateSources(sources, await nodeOptionsFrom(parseNodeArgs(fixture.args))).objects, 'yaml');
}

/** kpc dns's zone file for a fixture, with the defaults (cluster.local, TTL 5). */
export function renderDns(fixture: FixtureCase): string {
  const sources = fixture.inputs.map((file) => ({ name: file, text: readFileSync(file, 'utf8') }));
  // The fixture's input flags (-n, --simulate and its own) apply to DNS too.
  const input = inputOptionsFrom(parseNodeArgs(fixture.args));
  return formatZone(compileDns(sources, { clusterDomain: 'cluster.local', ttl: 5, ...input }).zone);
}
