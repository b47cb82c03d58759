import { InputError, type Diagnostic } from './diagnostics/diagnostic.js';
import { emitIptables } from './emit/iptables/index.js';
import { emitIpvsChunks } from './emit/ipvs/index.js';
import { emitNftables } from './emit/nftables/index.js';
import { emitNftablesCompact } from './emit/nftables/compact/index.js';
import { joinChunks } from './emit/text-block.js';
import { buildGraph } from './graph/build.js';
import { buildDnsZone, type DnsOptions, type DnsZone } from './dns/index.js';
import { buildNodeContext, type NodeOptions } from './graph/node-context.js';
import type { IPFamily, RoutingGraph } from './graph/types.js';
import { loadSources } from './load/documents.js';
import type { SourceText } from './load/source.js';
import type { Service } from './model/k8s.js';
import { resolveEndpoints } from './resolve/index.js';
import { validateObjects, type ValidateOptions } from './validate/index.js';

export type Mode = 'iptables' | 'ipvs' | 'nftables';

/** How the input is read (`-n`), and the node it is compiled for. */
export type CompileOptions = NodeOptions & ValidateOptions;

export interface CompileTimings {
  load: number;
  validate: number;
  resolve: number;
  graph: number;
}

export interface GraphResult {
  graph: RoutingGraph;
  /** The input's Services, for what the graph leaves out (their labels, for picture filters). */
  services: Service[];
  warnings: Diagnostic[];
  /** Objects checked, List items counted one by one. */
  checked: number;
  timings: CompileTimings;
}

/** A step of compileGraph, told to an optional listener as it starts (the CLI shows progress with it). */
export type CompileStep = { step: 'load'; bytes: number } | { step: 'validate'; objects: number } | { step: 'resolve' } | { step: 'graph' };

/**
 * The pure core: texts in, routing graph out. Throws InputError carrying every
 * problem when the input is invalid; never reads files or runs programs.
 */
export function compileGraph(sources: SourceText[], options: CompileOptions, onStep: (step: CompileStep) => void = () => {}): GraphResult {
  const t0 = performance.now();
  onStep({ step: 'load', bytes: sources.reduce((sum, source) => sum + source.text.length, 0) });
  const loaded = loadSources(sources);
  const t1 = performance.now();
  onStep({ step: 'validate', objects: loaded.objects.length });
  const validated = validateObjects(loaded.objects, options);
  const t2 = performance.now();
  const diagnostics = [...loaded.diagnostics, ...validated.diagnostics];
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new InputError(diagnostics);
  const config = options.config ?? validated.configs[0]?.value;
  const node = buildNodeContext({ ...options, config }, validated.inventory.nodes, validated.inventory.serviceCIDRs);
  onStep({ step: 'resolve' });
  const resolved = resolveEndpoints(validated.inventory, node.name);
  const t3 = performance.now();
  onStep({ step: 'graph' });
  const graph = buildGraph(validated.inventory, resolved, node);
  const t4 = performance.now();
  return {
    graph,
    services: validated.inventory.services,
    warnings: diagnostics,
    checked: validated.checked,
    timings: { load: t1 - t0, validate: t2 - t1, resolve: t3 - t2, graph: t4 - t3 },
  };
}

/**
 * The DNS records CoreDNS would serve for the input. Throws InputError like
 * compileGraph; no node is involved (DNS is the same on every node).
 */
export function compileDns(sources: SourceText[], options: DnsOptions & ValidateOptions): { zone: DnsZone; warnings: Diagnostic[] } {
  const loaded = loadSources(sources);
  const validated = validateObjects(loaded.objects, options);
  const diagnostics = [...loaded.diagnostics, ...validated.diagnostics];
  if (diagnostics.some((d) => d.severity === 'error')) throw new InputError(diagnostics);
  const resolved = resolveEndpoints(validated.inventory, '');
  return { zone: buildDnsZone(validated.inventory, resolved, options), warnings: diagnostics };
}

/** Only validation: every problem found, and how many objects were checked. */
export function validateSources(
  sources: SourceText[],
  options: ValidateOptions = {},
  onStep: (step: CompileStep) => void = () => {},
): { diagnostics: Diagnostic[]; checked: number } {
  onStep({ step: 'load', bytes: sources.reduce((sum, source) => sum + source.text.length, 0) });
  const loaded = loadSources(sources);
  onStep({ step: 'validate', objects: loaded.objects.length });
  const validated = validateObjects(loaded.objects, options);
  return { diagnostics: [...loaded.diagnostics, ...validated.diagnostics], checked: validated.checked };
}

export interface EmitOptions {
  mode: Mode;
  /** iptables mode writes one family per script. */
  family: IPFamily;
  /** nftables mode: kube-proxy's own layout (the default) or the compact one. */
  layout?: NftLayout;
}

/** The nftables layouts: one routing graph, two translations (docs/nftables-compact.md). */
export type NftLayout = 'kube-proxy' | 'compact';
export const NFT_LAYOUTS: readonly NftLayout[] = ['kube-proxy', 'compact'];

/**
 * The rules as chunks of whole lines, in order: what `kpc generate` writes out one by
 * one, so a large rule set is never also held as one string.
 */
export function emitChunks(graph: RoutingGraph, options: EmitOptions): string[] {
  switch (options.mode) {
    case 'iptables':
      return emitIptables(graph, options.family);
    case 'nftables':
      return options.layout === 'compact' ? emitNftablesCompact(graph) : emitNftables(graph);
    case 'ipvs':
      return emitIpvsChunks(graph);
  }
}

/** The rules as one string, for callers that read them (apply, explain, diff). */
export function emit(graph: RoutingGraph, options: EmitOptions): string {
  return joinChunks(emitChunks(graph, options));
}
