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
import { resolveEndpoints } from './resolve/index.js';
import { validateObjects, type ValidateOptions, type ValidationResult } from './validate/index.js';
import { isSimulated, simulate, withEndpointSlices, type SimulateOptions, type SimulationContext } from './simulate/index.js';
import type { Inventory, KubeProxyConfiguration, Service } from './model/k8s.js';
import type { LoadedObject } from './load/source.js';
import { ObjectReporter } from './validate/reporter.js';
import { where } from './validate/inventory.js';
import { orphanWarnings } from './resolve/orphans.js';

export type Mode = 'iptables' | 'ipvs' | 'nftables';

/** What --simulate adds to the input; absent, nothing is simulated. */
export interface SimulateFlags {
  simulate?: SimulateOptions;
}

/** How the input is read (`-n`, `--simulate`), and the node it is compiled for. */
export type CompileOptions = NodeOptions & ValidateOptions & SimulateFlags;

export interface CompileTimings {
  load: number;
  validate: number;
  resolve: number;
  graph: number;
}

export interface GraphResult {
  graph: RoutingGraph;
  /** The Services compiled (simulated ones included), for what the graph leaves out (their labels, for picture filters). */
  services: Service[];
  warnings: Diagnostic[];
  /** Objects checked, List items counted one by one. */
  checked: number;
  timings: CompileTimings;
  /** With --simulate: one line per allocation and placement, for -v. */
  simulated: string[] | null;
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
  const validated = validateObjects(loaded.objects, { ...options, workloads: options.simulate !== undefined });
  const t2 = performance.now();
  const diagnostics = inputDiagnostics(loaded, validated);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new InputError(diagnostics);
  const config = options.config ?? validated.configs[0]?.value;
  const simulation = options.simulate ? simulateValidated(loaded.objects, validated, options, config, diagnostics) : null;
  const inventory = simulation?.inventory ?? validated.inventory;
  const node = buildNodeContext({ ...options, config }, inventory.nodes, inventory.serviceCIDRs);
  onStep({ step: 'resolve' });
  const resolved = resolveEndpoints(inventory, node.name);
  const t3 = performance.now();
  onStep({ step: 'graph' });
  const graph = buildGraph(inventory, resolved, node);
  if (simulation || isSimulated(inventory)) graph.simulated = true;
  const t4 = performance.now();
  return {
    graph,
    services: inventory.services,
    warnings: diagnostics,
    checked: validated.checked,
    timings: { load: t1 - t0, validate: t2 - t1, resolve: t3 - t2, graph: t4 - t3 },
    simulated: simulation?.notes ?? null,
  };
}

/**
 * Runs the simulation on validated objects; its errors (a clash, an address
 * outside the range) are thrown with the warnings found so far, each at its
 * object's file and line.
 */
function simulateValidated(
  objects: LoadedObject[],
  validated: ValidationResult,
  options: CompileOptions,
  config: KubeProxyConfiguration | undefined,
  diagnostics: Diagnostic[],
): { inventory: Inventory; notes: string[] } {
  const origins = new Map<unknown, LoadedObject>();
  for (const loaded of objects) origins.set(loaded.value, loaded);
  const errors: Diagnostic[] = [];
  const notes: string[] = [];
  const context: SimulationContext = {
    error: (object, path, message) => new ObjectReporter(origins.get(object)!, errors, undefined, undefined, options.namespace ?? 'default').error(path, message),
    where: (object, path) => where(origins.get(object)!, path),
    note: (line) => notes.push(line),
  };
  const clusterCIDRs = options.clusterCIDRs?.length ? options.clusterCIDRs : (config?.clusterCIDR ?? '').split(',').filter(Boolean);
  const inventory = simulate(
    {
      inventory: validated.inventory,
      workloads: validated.workloads,
      serviceCIDRs: options.serviceCIDRs ?? [],
      clusterCIDRs,
      nodeName: options.nodeName ?? (config?.hostnameOverride || undefined),
      nodeIPs: options.nodeIPs ?? [],
      options: options.simulate!,
    },
    context,
  );
  if (errors.length) throw new InputError([...diagnostics, ...errors]);
  return { inventory, notes };
}

/**
 * `kpc simulate`: the input's objects as the control plane would complete
 * them (with the EndpointSlices its controller would write), in the order the rest of kpc reads them, with the configuration
 * documents kept, so that compiling them gives what --simulate gives.
 */
export function simulateSources(sources: SourceText[], options: CompileOptions): { objects: unknown[]; warnings: Diagnostic[]; notes: string[] } {
  const loaded = loadSources(sources);
  const validated = validateObjects(loaded.objects, { ...options, workloads: true });
  const diagnostics = inputDiagnostics(loaded, validated);
  if (diagnostics.some((d) => d.severity === 'error')) throw new InputError(diagnostics);
  const config = options.config ?? validated.configs[0]?.value;
  const { inventory, notes } = simulateValidated(loaded.objects, validated, { ...options, simulate: options.simulate ?? {} }, config, diagnostics);
  const objects = [
    ...validated.configs.map((c) => c.value),
    ...inventory.serviceCIDRs,
    ...inventory.nodes,
    ...inventory.services,
    ...withEndpointSlices(inventory),
    ...inventory.endpoints,
    ...inventory.pods,
  ];
  return { objects, warnings: diagnostics, notes };
}

/**
 * Load's and validation's problems, and, when there is no error (an invalid
 * Service is missing from the inventory, and its slices are not orphans),
 * a warning for each EndpointSlice or Endpoints whose Service is not in the input.
 */
function inputDiagnostics(loaded: { diagnostics: Diagnostic[]; objects: LoadedObject[] }, validated: ValidationResult): Diagnostic[] {
  const diagnostics = [...loaded.diagnostics, ...validated.diagnostics];
  if (diagnostics.some((d) => d.severity === 'error')) return diagnostics;
  return [...diagnostics, ...orphanWarnings(validated.inventory, loaded.objects)];
}

/**
 * The DNS records CoreDNS would serve for the input. Throws InputError like
 * compileGraph; no node is involved (DNS is the same on every node).
 */
export function compileDns(sources: SourceText[], options: DnsOptions & ValidateOptions & SimulateFlags): { zone: DnsZone; warnings: Diagnostic[]; checked: number } {
  const loaded = loadSources(sources);
  const validated = validateObjects(loaded.objects, { ...options, workloads: options.simulate !== undefined });
  const diagnostics = inputDiagnostics(loaded, validated);
  if (diagnostics.some((d) => d.severity === 'error')) throw new InputError(diagnostics);
  const inventory = options.simulate ? simulateValidated(loaded.objects, validated, options, validated.configs[0]?.value, diagnostics).inventory : validated.inventory;
  const resolved = resolveEndpoints(inventory, '');
  return { zone: buildDnsZone(inventory, resolved, options), warnings: diagnostics, checked: validated.checked };
}

/** Only validation: every problem found, and how many objects were checked. */
export function validateSources(
  sources: SourceText[],
  options: ValidateOptions & SimulateFlags = {},
  onStep: (step: CompileStep) => void = () => {},
): { diagnostics: Diagnostic[]; checked: number; unallocated: number } {
  onStep({ step: 'load', bytes: sources.reduce((sum, source) => sum + source.text.length, 0) });
  const loaded = loadSources(sources);
  onStep({ step: 'validate', objects: loaded.objects.length });
  const validated = validateObjects(loaded.objects, { ...options, workloads: options.simulate !== undefined });
  const diagnostics = inputDiagnostics(loaded, validated);
  if (options.simulate && !diagnostics.some((d) => d.severity === 'error')) {
    try {
      simulateValidated(loaded.objects, validated, options, validated.configs[0]?.value, []);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      for (const d of error.diagnostics) diagnostics.push(d);
    }
  }
  // Without --simulate, Services with no cluster IP get no rules: said once, as a warning.
  const unallocated = options.simulate ? 0 : validated.inventory.services.filter((s) => s.spec.type !== 'ExternalName' && !s.spec.clusterIP && !s.spec.clusterIPs?.length).length;
  return { diagnostics, checked: validated.checked, unallocated };
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
