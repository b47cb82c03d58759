// One measured case, in a process of its own so that its peak RSS is its own.
// Plain JavaScript on the compiled dist/, bundled into one file as bin/kpc's
// dist/kpc.mjs is (bench/steps.mjs, bundled by bench/run.ts), so nothing but
// kpc's own code is measured. Prints one JSON line on stdout.
//
//   node bench/child.mjs kpc --file F --mode iptables|nftables --out O
//        [--node-name N --node-ip IP --cluster-cidr CIDR] [--heap]
//     Runs the steps of `kpc generate` in the CLI's order, with the CLI's own
//     modules: read the file, compileGraph (load, validate, resolve, graph),
//     print warnings, emit (as chunks), write the chunks atomically, as the
//     CLI does. Reports each step.
//     --heap (needs node --expose-gc): also the live heap after each step,
//     after a full GC; slows the run, so the bench uses it only when profiling.
//
//   node bench/child.mjs parse --file F
//     js-yaml's loadAll of the same text alone (JSON.parse for a .json file):
//     the floor for kpc's load step.
import { readFileSync } from 'node:fs';

function parseArgs(argv) {
  const flags = { heap: false };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'heap') flags.heap = true;
    else flags[key.replace(/-(.)/g, (_, c) => c.toUpperCase())] = argv[++i];
  }
  return flags;
}

const since = () => performance.now();
/** CPU time (user + system, all threads: GC helpers included) in ms since process start. */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

function heapMark(enabled, marks, step) {
  if (!enabled) return;
  globalThis.gc();
  const m = process.memoryUsage();
  marks[step] = { heapUsedMB: mb(m.heapUsed), externalMB: mb(m.external + m.arrayBuffers), rssMB: mb(m.rss) };
}

async function kpc(flags) {
  const started = since();
  const { readInputs, compileGraph, emitChunks, writeAtomically, printDiagnostics } = await import('../dist/bench-steps.mjs');
  const heap = {};
  heapMark(flags.heap, heap, 'start');
  const t0 = since();
  const c0 = cpu();
  const sources = await readInputs([flags.file]);
  const t1 = since();
  heapMark(flags.heap, heap, 'read');
  const nodeOptions = {
    nodeName: flags.nodeName,
    nodeIPs: flags.nodeIp ? [flags.nodeIp] : [],
    clusterCIDRs: flags.clusterCidr ? [flags.clusterCidr] : [],
  };
  const t2 = since();
  const c2 = cpu();
  const result = compileGraph(sources, nodeOptions);
  const t3 = since();
  const c3 = cpu();
  heapMark(flags.heap, heap, 'compiled');
  // Warnings go to stderr as the CLI prints them; the bench expects none.
  printDiagnostics(result.warnings);
  const t4 = since();
  const c4 = cpu();
  const chunks = emitChunks(result.graph, { mode: flags.mode, family: 4 });
  const t5 = since();
  const c5 = cpu();
  heapMark(flags.heap, heap, 'emitted');
  await writeAtomically(flags.out, chunks);
  const t6 = since();
  const c6 = cpu();
  let lines = 0;
  let bytes = 0;
  for (const chunk of chunks) {
    bytes += Buffer.byteLength(chunk, 'utf8');
    for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines++;
  }
  return {
    // performance.now() counts from the process's start: this is node's own boot.
    bootMs: started,
    importMs: t0 - started,
    readMs: t1 - t0,
    ...Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [`${k}Ms`, v])),
    compileMs: t3 - t2,
    diagnosticsMs: t4 - t3,
    emitMs: t5 - t4,
    writeMs: t6 - t5,
    totalMs: since(),
    compileCpuMs: c3 - c2,
    emitCpuMs: c5 - c4,
    writeCpuMs: c6 - c5,
    stepsCpuMs: cpu() - c0,
    totalCpuMs: cpu(),
    servicePorts: result.graph.servicePorts.length,
    warnings: result.warnings.length,
    outputLines: lines,
    outputBytes: bytes,
    heap: flags.heap ? heap : undefined,
  };
}

async function parse(flags) {
  const { loadAll } = await import('js-yaml');
  const json = flags.file.endsWith('.json');
  const text = readFileSync(flags.file, 'utf8');
  const t0 = since();
  const c0 = cpu();
  const parsed = json ? JSON.parse(text) : loadAll(text);
  const t1 = since();
  const documents = json ? (parsed.items?.length ?? 1) : parsed.length;
  return { parser: json ? 'JSON.parse' : 'js-yaml loadAll', parseMs: t1 - t0, parseCpuMs: cpu() - c0, documents, inputBytes: Buffer.byteLength(text) };
}

const [what, ...rest] = process.argv.slice(2);
const flags = parseArgs(rest);
const run = what === 'kpc' ? kpc : what === 'parse' ? parse : null;
if (!run) {
  process.stderr.write('usage: child.mjs kpc|parse --file F ...\n');
  process.exit(2);
}
const result = await run(flags);
// maxRSS is in KiB: the process's peak resident set, what /usr/bin/time -v calls "Maximum resident set size".
process.stdout.write(JSON.stringify({ ...result, maxRssMB: mb(process.resourceUsage().maxRSS * 1024) }) + '\n');
