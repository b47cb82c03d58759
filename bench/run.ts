// kpc's benchmark (`npm run bench`, or `npm run bench -- --quick`).
//
// For generated clusters of 1,000 / 10,000 / 30,000 service ports (10
// endpoints each, from EndpointSlices), 10,000 from Pods, and the 10,000
// cluster as kubectl's JSON instead of YAML, in iptables and
// nftables mode, each case in a fresh child process:
//   - kpc generate end to end, split into its steps: bench/child.mjs runs the
//     CLI's own modules from dist/ in the CLI's order (read, load, validate,
//     resolve, graph, emit, write) in a fresh process; wall time from spawn
//     to exit, CPU time, peak RSS;
//   - the real CLI (bin/kpc generate) too, for the sizes in --cli-sizes, as a
//     cross-check of the end-to-end numbers;
//   - js-yaml's loadAll (JSON.parse for JSON) of the same input alone, the
//     yardstick for the load step (kpc's own block-YAML reader can beat it);
//   - the kernel's time to load kpc's output (iptables-restore, nft -f) in a
//     throwaway network namespace kpc-bench-<pid>;
//   - output size in lines and bytes.
// Then the first-packet cost: in the kernel test harness (test/kernel), with
// 1,000 and 10,000 services loaded, the time to open a NEW TCP connection to
// the cluster IP of the first and of the last service in the rule set.
//
// Prints a table and writes bench/results/latest.json. Nothing here asserts:
// the targets are reported, met or not. Flags:
//   --quick               1,000 service ports only (slices and pods), a smoke run
//   --sizes 1000,10000    slice-cluster sizes instead of 1,000/10,000/30,000
//   --pods N              size of the Pods variant (0: none); default 10,000
//   --json N              size of the JSON variant, the slice cluster as
//                         `kubectl get -o json` prints it (0: none); default 10,000
//   --kernel-budget S     skip a kernel load predicted to take longer than S
//                         seconds (default 120; 0 skips kernel loads)
//   --no-packets          skip the first-packet measurement
//   --packets N           connections per target (default 1,000)
//   --cli-sizes 1000,...  slice-cluster sizes also run through bin/kpc (default 1,000 and 10,000)
//   --repeat N            run each kpc and parse measurement N times and keep the
//                         median run (default 3; the machine's speed varies)
//   --profile             also write CPU profiles and live-heap marks per case
//   --graphs 100,300,...  service-port counts for the picture timings (kpc graph, Graphviz); 0 for none
//   --graph-budget S      kill a Graphviz layout after S seconds (default 120)
//   --rendered MB         size of the rendered-manifests case (mostly CRDs, as helm template prints a
//                         monitoring stack): kpc validate and generate --simulate against js-yaml (0: none; default 5.7)
//   --incremental 10000   service-port counts for the incremental-apply measurement
//                         (bench/incremental-apply.ts; 0 for none); default 10,000
//   --incremental-nft-max N  largest count measured in nftables mode; default 10,000
//   --incremental-full-max N  above N, iptables and kube-proxy's nftables layout are seeded
//                         straight into the namespace instead of `kpc apply --full` (their
//                         full loads take minutes there); default 3,000
//   --incremental-only    only the incremental-apply measurement
//   --incremental-rows iptables,compact  which rows to measure (iptables, kube-proxy, compact); default all
//   --out FILE            results file (default bench/results/latest.json)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateCluster, type ClusterOptions } from './generate-cluster.js';
import { graphTimes, type GraphTime } from './graph-times.js';
import { renderedTimes, type RenderedTime } from './rendered.js';
import { incrementalApply, incrementalTable, type IncrementalResult } from './incremental-apply.js';
import { bundle } from '../scripts/bundle.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = join(ROOT, 'bench');
type Mode = 'iptables' | 'nftables';
const MODES: Mode[] = ['iptables', 'nftables'];

// ---------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  sizes: number[];
  pods: number;
  json: number;
  kernelBudgetS: number;
  packets: boolean;
  packetCount: number;
  packetSizes: number[];
  cliSizes: number[];
  repeat: number;
  profile: boolean;
  graphs: number[];
  graphBudgetS: number;
  renderedMB: number;
  out: string;
  incremental: number[];
  incrementalNftMax: number;
  incrementalFullMax: number;
  incrementalOnly: boolean;
  incrementalRows: string[];
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false,
    sizes: [1000, 10000, 30000],
    pods: 10000,
    json: 10000,
    kernelBudgetS: 120,
    packets: true,
    packetCount: 1000,
    packetSizes: [1000, 10000],
    cliSizes: [1000, 10000],
    repeat: 3,
    profile: false,
    graphs: [100, 300, 1000],
    graphBudgetS: 120,
    renderedMB: 5.7,
    out: join(BENCH, 'results', 'latest.json'),
    incremental: [10000],
    incrementalNftMax: 10000,
    incrementalFullMax: 3000,
    incrementalOnly: false,
    incrementalRows: ['iptables', 'kube-proxy', 'compact'],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--quick') {
      o.quick = true;
      o.sizes = [1000];
      o.pods = 1000;
      o.json = 1000;
      o.packetSizes = [1000];
      o.packetCount = 300;
      o.graphs = [100];
      o.incremental = [1000];
    } else if (flag === '--sizes') o.sizes = next().split(',').map(Number);
    else if (flag === '--pods') o.pods = Number(next());
    else if (flag === '--json') o.json = Number(next());
    else if (flag === '--kernel-budget') o.kernelBudgetS = Number(next());
    else if (flag === '--no-packets') o.packets = false;
    else if (flag === '--packets') o.packetCount = Number(next());
    else if (flag === '--cli-sizes') o.cliSizes = next().split(',').filter(Boolean).map(Number);
    else if (flag === '--repeat') o.repeat = Math.max(1, Number(next()));
    else if (flag === '--profile') o.profile = true;
    else if (flag === '--graphs') o.graphs = next().split(',').map(Number).filter((n) => n > 0);
    else if (flag === '--graph-budget') o.graphBudgetS = Number(next());
    else if (flag === '--rendered') o.renderedMB = Number(next());
    else if (flag === '--out') o.out = next();
    else if (flag === '--incremental') o.incremental = next().split(',').map(Number).filter((n) => n > 0);
    else if (flag === '--incremental-nft-max') o.incrementalNftMax = Number(next());
    else if (flag === '--incremental-full-max') o.incrementalFullMax = Number(next());
    else if (flag === '--incremental-only') o.incrementalOnly = true;
    else if (flag === '--incremental-rows') o.incrementalRows = next().split(',');
    else throw new Error(`unknown flag ${flag}; see the header of bench/run.ts`);
  }
  return o;
}

// ---------------------------------------------------------------------------
// Small helpers

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 1048576, 1);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function log(text: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Runs a program to its end, nothing else running beside it; stdin from a file when given. */
function runProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; stdinFile?: string; timeoutMs?: number } = {}): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const stdin = opts.stdinFile ? openSync(opts.stdinFile, 'r') : 'ignore';
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: [stdin, 'pipe', 'pipe'] });
    if (typeof stdin === 'number') closeSync(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 20_000) stderr += d.toString();
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, wallMs: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

function tryVersion(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0]!;
  } catch {
    return null;
  }
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    iptables: tryVersion('iptables-restore', ['--version']),
    nft: tryVersion('nft', ['--version']),
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
  };
}

/**
 * dist/ must hold the current src/: build it as the test setup does (only
 * when stale). bench/child.mjs then runs the CLI's steps from one bundle, as
 * bin/kpc runs dist/kpc.mjs, so its start-up is the CLI's.
 */
async function ensureBuilt(): Promise<void> {
  const setup = (await import('../test/setup/build.js')) as { default: () => Promise<void> };
  await setup.default();
  await bundle(join(BENCH, 'steps.mjs'), join(ROOT, 'dist', 'bench-steps.mjs'));
}

// ---------------------------------------------------------------------------
// Cases

interface Case {
  name: string;
  options: ClusterOptions;
  /** Load kpc's output into the kernel for this case. */
  kernel: boolean;
}

interface ModeResult {
  mode: Mode;
  /** bench/child.mjs: the CLI's steps in one fresh process; wallMs is spawn to exit, of the median run; runsMs every run's, sorted. */
  e2e: { wallMs: number; cpuMs: number; maxRssMB: number; runsMs: number[] };
  split: Record<string, unknown>;
  cli: { wallMs: number; cpuMs: number | null; maxRssMB: number | null; exitCode: number | null; stderr?: string } | null;
  output: { lines: number; bytes: number; MB: number };
  kernel: KernelLoad | null;
  profile?: unknown;
}

interface KernelLoad {
  status: 'loaded' | 'failed' | 'skipped';
  wallMs?: number;
  userMs?: number | null;
  sysMs?: number | null;
  predictedMs?: number;
  reason?: string;
}

interface CaseResult {
  name: string;
  source: 'slices' | 'pods';
  format: 'yaml' | 'json';
  servicePorts: number;
  counts: Record<string, unknown>;
  generateMs: number;
  input: { bytes: number; MB: number; lines: number };
  /** The input parsed alone (js-yaml loadAll, or JSON.parse for JSON): the yardstick for kpc's load step. */
  /** js-yaml's (or JSON.parse's) time alone, of the median run; runsMs every run's, sorted. */
  parseFloor: { parser: string; parseMs: number; runsMs: number[]; parseCpuMs: number; maxRssMB: number; documents: number } | null;
  modes: ModeResult[];
  /** nftables --layout compact: bin/kpc's time, its output, and the kernel's first and second load of it. */
  compact?: { cliMs: number; lines: number; MB: number; first: KernelLoad; second: KernelLoad } | null;
}

function countLines(file: string): number {
  const text = readFileSync(file);
  let n = 0;
  for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * Runs bench/child.mjs `repeat` times and keeps the run with the median
 * `key` (its step split stays that run's own); runsMs holds every run's
 * `key`, sorted.
 */
async function runChildMedian(args: string[], repeat: number, key = 'wallMs'): Promise<Record<string, unknown> & { wallMs: number; runsMs: number[] }> {
  const runs: (Record<string, unknown> & { wallMs: number })[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await runChild(args));
  runs.sort((a, b) => (a[key] as number) - (b[key] as number));
  return { ...runs[(runs.length - 1) >> 1]!, runsMs: runs.map((r) => round(r[key] as number)) };
}

async function runChild(args: string[], nodeFlags: string[] = []): Promise<Record<string, unknown> & { wallMs: number }> {
  const r = await runProcess(process.execPath, [...nodeFlags, join(BENCH, 'child.mjs'), ...args]);
  if (r.code !== 0) throw new Error(`bench/child.mjs ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
  if (r.stderr.trim()) log(`child stderr: ${r.stderr.trim().slice(0, 500)}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>), wallMs: r.wallMs };
}

async function measureCase(c: Case, dir: string, opts: Options, kernelHistory: Map<Mode, { lines: number; ms: number }>): Promise<CaseResult> {
  log(`${c.name}: generating`);
  const g0 = performance.now();
  const cluster = generateCluster(c.options);
  const generateMs = performance.now() - g0;
  const input = join(dir, `${c.name}.${c.options.format ?? 'yaml'}`);
  writeFileSync(input, cluster.text);
  const inputBytes = Buffer.byteLength(cluster.text);
  const result: CaseResult = {
    name: c.name,
    source: c.options.endpointSource ?? 'slices',
    format: c.options.format ?? 'yaml',
    servicePorts: c.options.servicePorts,
    counts: cluster.counts,
    generateMs: round(generateMs),
    input: { bytes: inputBytes, MB: mb(inputBytes), lines: countLines(input) },
    parseFloor: null,
    modes: [],
  };
  const nodeArgs = ['--node-name', cluster.node.name, '--node-ip', cluster.node.ip, '--cluster-cidr', cluster.node.clusterCIDR];

  log(`${c.name}: parsing alone`);
  const floor = await runChildMedian(['parse', '--file', input], opts.repeat, 'parseMs');
  result.parseFloor = {
    parser: floor.parser as string,
    parseMs: round(floor.parseMs as number),
    runsMs: floor.runsMs,
    parseCpuMs: round(floor.parseCpuMs as number),
    maxRssMB: floor.maxRssMB as number,
    documents: floor.documents as number,
  };

  for (const mode of MODES) {
    const out = join(dir, `${c.name}.${mode}.out`);
    log(`${c.name} ${mode}: kpc generate, steps timed (bench/child.mjs)`);
    const split = await runChildMedian(['kpc', '--file', input, '--mode', mode, '--out', out, ...nodeArgs], opts.repeat);
    const modeResult: ModeResult = {
      mode,
      e2e: { wallMs: round(split.wallMs), cpuMs: round(split.totalCpuMs as number), maxRssMB: split.maxRssMB as number, runsMs: split.runsMs },
      split: Object.fromEntries(Object.entries(split).filter(([k]) => k !== 'runsMs').map(([k, v]) => [k, typeof v === 'number' && k.endsWith('Ms') ? round(v, 1) : v])),
      cli: null,
      output: { lines: split.outputLines as number, bytes: split.outputBytes as number, MB: mb(split.outputBytes as number) },
      kernel: null,
    };

    // The CLI check runs on the plain slice clusters only; the variants would double their long runs for nothing new.
    if (opts.cliSizes.includes(c.options.servicePorts) && c.options.format !== 'json' && c.options.endpointSource !== 'pods') {
      log(`${c.name} ${mode}: bin/kpc generate (the real CLI)`);
      const usageFile = join(dir, `${c.name}.${mode}.usage.json`);
      const cliOut = join(dir, `${c.name}.${mode}.cli.out`);
      const cli = await runProcess(
        process.execPath,
        ['--import', join(BENCH, 'maxrss.mjs'), join(ROOT, 'bin', 'kpc'), 'generate', '-f', input, '--mode', mode, ...nodeArgs, '-o', cliOut],
        { env: { ...process.env, KPC_BENCH_USAGE: usageFile } },
      );
      const usage = existsSync(usageFile) ? (JSON.parse(readFileSync(usageFile, 'utf8')) as { cpuMs: number; maxRssMB: number }) : null;
      if (cli.code !== 0) log(`${c.name} ${mode}: kpc exited ${cli.code}: ${cli.stderr.slice(0, 500)}`);
      else if (statSync(cliOut).size !== modeResult.output.bytes) log(`${c.name} ${mode}: WARNING bin/kpc wrote ${statSync(cliOut).size} bytes, bench/child.mjs ${modeResult.output.bytes}`);
      modeResult.cli = {
        wallMs: round(cli.wallMs),
        cpuMs: usage ? round(usage.cpuMs) : null,
        maxRssMB: usage?.maxRssMB ?? null,
        exitCode: cli.code,
        ...(cli.stderr ? { stderr: cli.stderr.slice(0, 2000) } : {}),
      };
      rmSync(cliOut, { force: true });
    }

    if (opts.profile) modeResult.profile = await profileCase(c, mode, input, dir, nodeArgs);

    if (c.kernel) modeResult.kernel = await kernelLoad(mode, out, modeResult.output.lines, opts, kernelHistory, c.name);
    rmSync(out, { force: true });
    result.modes.push(modeResult);
  }
  if (c.kernel) result.compact = await compactCase(c, input, dir, opts, nodeArgs);
  rmSync(input, { force: true });
  return result;
}

/**
 * The compact nftables layout of the same cluster: bin/kpc generate --layout
 * compact, then `nft -f` of its output twice into one namespace (the second
 * replaces the first in one transaction, as a repeated full apply does).
 */
async function compactCase(c: Case, input: string, dir: string, opts: Options, nodeArgs: string[]): Promise<CaseResult['compact']> {
  const out = join(dir, `${c.name}.compact.nft`);
  log(`${c.name} nftables --layout compact: bin/kpc generate`);
  const cli = await runProcess(process.execPath, [join(ROOT, 'bin', 'kpc'), 'generate', '-f', input, '--mode', 'nftables', '--layout', 'compact', ...nodeArgs, '-o', out]);
  if (cli.code !== 0) {
    log(`${c.name} compact: kpc exited ${cli.code}: ${cli.stderr.slice(0, 500)}`);
    return null;
  }
  const lines = countLines(out);
  const MB = mb(statSync(out).size);
  const skipped = (reason: string): KernelLoad => ({ status: 'skipped', reason });
  if (opts.kernelBudgetS <= 0 || !kernelAvailable()) {
    rmSync(out, { force: true });
    return { cliMs: round(cli.wallMs), lines, MB, first: skipped(kernelWhy || 'kernel loads off'), second: skipped(kernelWhy || 'kernel loads off') };
  }
  const ns = `kpc-bench-${process.pid}-${++nsCounter}`;
  await runProcess('ip', ['netns', 'add', ns]);
  try {
    const load = async (): Promise<KernelLoad> => {
      log(`${c.name} compact: loading ${lines} lines`);
      const r = await runProcess('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdinFile: out, timeoutMs: opts.kernelBudgetS * 1000 * 2 });
      return r.code === 0 ? { status: 'loaded', wallMs: round(r.wallMs) } : { status: 'failed', wallMs: round(r.wallMs), reason: r.stderr.slice(0, 1000) };
    };
    const first = await load();
    const second = first.status === 'loaded' ? await load() : skipped('the first load failed');
    return { cliMs: round(cli.wallMs), lines, MB, first, second };
  } finally {
    await runProcess('ip', ['netns', 'del', ns]);
    rmSync(out, { force: true });
  }
}

async function profileCase(c: Case, mode: Mode, input: string, dir: string, nodeArgs: string[]): Promise<unknown> {
  log(`${c.name} ${mode}: CPU profile and heap marks`);
  const profDir = join(dir, `prof-${c.name}-${mode}`);
  const out = join(dir, `${c.name}.${mode}.prof.out`);
  await runChild(['kpc', '--file', input, '--mode', mode, '--out', out, ...nodeArgs], ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const heap = await runChild(['kpc', '--file', input, '--mode', mode, '--out', out, '--heap', ...nodeArgs], ['--expose-gc']);
  rmSync(out, { force: true });
  const { summarize } = (await import(pathToFileURL(join(BENCH, 'profile-summary.mjs')).href)) as { summarize: (p: unknown, top: number) => unknown };
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
  const summary = summarize(JSON.parse(readFileSync(join(profDir, file), 'utf8')), 25);
  rmSync(profDir, { recursive: true, force: true });
  return { cpu: summary, heap: heap.heap };
}

// ---------------------------------------------------------------------------
// Kernel load

/**
 * How load time grows with the ruleset, for predicting a load before starting
 * it (a load cannot be stopped once the kernel is processing its batch: the
 * whole transaction runs inside one sendmsg). nftables grows with the square:
 * the kernel binds each anonymous set (every service's `numgen ... vmap {}`)
 * by walking the whole transaction so far (__nft_set_trans_bind).
 * iptables-restore (nf_tables backend) grows about linearly up to 10,000
 * service ports; beyond, its own user-space time grows faster (30,000 took
 * 190 s, 158 s of it in user space, against 20 s for 10,000), so 1.3 lets the
 * 30,000 load run on a quiet machine and skips it on a busy one.
 */
const GROWTH: Record<Mode, number> = { iptables: 1.3, nftables: 2 };

let nsCounter = 0;

async function kernelLoad(mode: Mode, file: string, lines: number, opts: Options, history: Map<Mode, { lines: number; ms: number }>, label: string): Promise<KernelLoad> {
  if (opts.kernelBudgetS <= 0) return { status: 'skipped', reason: 'kernel loads off (--kernel-budget 0)' };
  if (!kernelAvailable()) return { status: 'skipped', reason: kernelWhy };
  const last = history.get(mode);
  if (last) {
    const predictedMs = last.ms * (lines / last.lines) ** GROWTH[mode];
    if (predictedMs > opts.kernelBudgetS * 1000) {
      return { status: 'skipped', predictedMs: round(predictedMs), reason: `predicted ${round(predictedMs / 1000)} s from the ${last.lines}-line load (growth ^${GROWTH[mode]}) > --kernel-budget ${opts.kernelBudgetS} s` };
    }
  }
  log(`${label} ${mode}: loading ${lines} lines into a throwaway namespace`);
  const ns = `kpc-bench-${process.pid}-${++nsCounter}`;
  await runProcess('ip', ['netns', 'add', ns]);
  const timeFile = join(os.tmpdir(), `${ns}.time`);
  try {
    const argv = mode === 'iptables' ? ['iptables-restore'] : ['nft', '-f', '-'];
    const hasTime = existsSync('/usr/bin/time');
    const cmd = hasTime ? '/usr/bin/time' : 'ip';
    const args = hasTime ? ['-f', '%U %S', '-o', timeFile, 'ip', 'netns', 'exec', ns, ...argv] : ['netns', 'exec', ns, ...argv];
    const r = await runProcess(cmd, args, { stdinFile: file });
    if (r.code !== 0) return { status: 'failed', wallMs: round(r.wallMs), reason: r.stderr.slice(0, 1000) };
    let userMs: number | null = null;
    let sysMs: number | null = null;
    if (hasTime && existsSync(timeFile)) {
      const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      userMs = round(u! * 1000);
      sysMs = round(s! * 1000);
    }
    history.set(mode, { lines, ms: r.wallMs });
    return { status: 'loaded', wallMs: round(r.wallMs), userMs, sysMs };
  } finally {
    rmSync(timeFile, { force: true });
    await runProcess('ip', ['netns', 'del', ns]);
  }
}

let kernelOk: boolean | null = null;
let kernelWhy = '';
function kernelAvailable(): boolean {
  if (kernelOk !== null) return kernelOk;
  if (process.getuid?.() !== 0) {
    kernelWhy = 'not root: network namespaces need CAP_SYS_ADMIN';
    return (kernelOk = false);
  }
  const probe = `kpc-bench-${process.pid}-probe`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'exec', probe, 'nft', 'list', 'ruleset'], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'exec', probe, 'iptables-restore', '--version'], { stdio: 'pipe' });
    kernelOk = true;
  } catch (error) {
    kernelWhy = `cannot use network namespaces here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
    kernelOk = false;
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    } catch {
      /* never created */
    }
  }
  return kernelOk;
}

/** Namespaces of this shape left by a bench that was killed (its pid is gone). */
function sweepStaleNamespaces(): void {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^kpc-bench-(\d+)-(?:\d+|probe|inc)$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
      } catch {
        /* someone else's, or gone */
      }
    }
  }
}

// ---------------------------------------------------------------------------
// First-packet cost in the kernel harness

interface Series {
  n: number;
  failures: number;
  connectUs: { median: number; p99: number };
  totalUs: { median: number; p99: number };
  harnessMs: { n: number; failures: number; median: number; p99: number; mean: number };
  backends: Record<string, number>;
}

interface PacketResult {
  services: number;
  mode: Mode | 'nftables-compact';
  loadMs: number;
  loadNote: string;
  first: { name: string; clusterIP: string } & Series;
  last: { name: string; clusterIP: string } & Series;
}

const HARNESS_PODS = [
  { ip: '10.244.1.2', nodeName: 'node' },
  { ip: '10.244.1.3', nodeName: 'node' },
  { ip: '10.244.1.4', nodeName: 'node' },
  { ip: '10.244.2.2', nodeName: 'remote' },
  { ip: '10.244.2.3', nodeName: 'remote' },
];

/**
 * Loads nft text in pieces: everything but the rules in one transaction, then
 * the rules 10,000 at a time. The ruleset that results is the same as one
 * `nft -f`, but each transaction stays short, so the kernel's per-anonymous-set
 * walk of the transaction (see GROWTH) costs seconds instead of minutes.
 */
async function loadNftInPieces(netns: string, text: string, dir: string): Promise<number> {
  const lines = text.split('\n');
  const rules = lines.filter((l) => l.startsWith('add rule '));
  const rest = lines.filter((l) => !l.startsWith('add rule '));
  // Elements refer to chains only; rules refer to sets and maps, which `rest` declares.
  const pieces = [rest.join('\n') + '\n'];
  for (let i = 0; i < rules.length; i += 10_000) pieces.push(rules.slice(i, i + 10_000).join('\n') + '\n');
  const t0 = performance.now();
  for (const [i, piece] of pieces.entries()) {
    const file = join(dir, `piece-${i}.nft`);
    writeFileSync(file, piece);
    const r = await runProcess('ip', ['netns', 'exec', netns, 'nft', '-f', file]);
    rmSync(file, { force: true });
    if (r.code !== 0) throw new Error(`nft -f piece ${i} failed: ${r.stderr.slice(0, 500)}`);
  }
  return performance.now() - t0;
}

async function firstPacket(opts: Options, dir: string): Promise<{ results: PacketResult[]; note: string } | { skipped: string }> {
  if (!kernelAvailable()) return { skipped: kernelWhy };
  const { createWorld } = await import('../test/kernel/harness.js');
  const { compileGraph, emit } = (await import(pathToFileURL(join(ROOT, 'dist', 'compile.js')).href)) as typeof import('../src/compile.js');
  const results: PacketResult[] = [];
  log('first packet: building the harness world');
  const world = await createWorld();
  const cleanup = () => void world.destroy();
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    for (const services of opts.packetSizes) {
      const cluster = generateCluster({ servicePorts: services, fixedEndpoints: HARNESS_PODS, fixedTargetPort: 8080, seed: 7 });
      const { graph } = compileGraph([{ name: `packets-${services}.yaml`, text: cluster.text }], {
        nodeName: cluster.node.name,
        nodeIPs: [cluster.node.ip],
        clusterCIDRs: [cluster.node.clusterCIDR],
      });
      const iptablesText = emit(graph, { mode: 'iptables', family: 4 });
      const order = serviceOrder(iptablesText);
      const first = cluster.services[0]!;
      const last = cluster.services.at(-1)!;
      if (order.first !== first.clusterIP || order.last !== last.clusterIP) {
        throw new Error(`rule order is not name order: KUBE-SERVICES starts with ${order.first} and ends with ${order.last}, expected ${first.clusterIP} and ${last.clusterIP}`);
      }
      // The compact nftables layout beside kube-proxy's: the data-plane cost of its set lookups.
      for (const mode of [...MODES, 'nftables-compact'] as const) {
        const text = mode === 'iptables' ? iptablesText : emit(graph, { mode: 'nftables', family: 4, layout: mode === 'nftables' ? 'kube-proxy' : 'compact' });
        await world.resetRules();
        log(`first packet: ${services} services, ${mode}: loading`);
        let loadMs: number;
        let loadNote: string;
        if (mode !== 'nftables' || services <= 1000) {
          const t0 = performance.now();
          await world.loadRules(mode === 'iptables' ? 'iptables' : 'nftables', text);
          loadMs = performance.now() - t0;
          loadNote = 'one transaction';
        } else {
          loadMs = await loadNftInPieces(world.node.netns, text, dir);
          loadNote = 'in pieces of 10,000 rules (same ruleset; see loadNftInPieces)';
        }
        log(`first packet: ${services} services, ${mode}: ${opts.packetCount} new connections to each of ${first.clusterIP} (first) and ${last.clusterIP} (last)`);
        const targets = [
          { label: 'first', ip: first.clusterIP, port: first.port },
          { label: 'last', ip: last.clusterIP, port: last.port },
        ];
        const job = { targets, count: opts.packetCount, round: 50, warmup: 20, timeoutMs: 1000 };
        const probe = await world.exec(world.client, [process.execPath, join(BENCH, 'rtt-client.mjs'), JSON.stringify(job)]);
        if (probe.exitCode !== 0) throw new Error(`rtt-client failed: ${probe.stderr.slice(0, 1000)}`);
        const measured = JSON.parse(probe.stdout.trim()) as Array<{ label: string; connectUs: number[]; totalUs: number[]; failures: number; backends: Record<string, number> }>;
        // The harness's own client: whole-millisecond times per attempt, one process reused for all attempts.
        const harness: Record<string, Series['harnessMs']> = {};
        for (const t of targets) {
          const replies = await world.request(world.client, { ip: t.ip, port: t.port, proto: 'tcp' }, { count: Math.min(opts.packetCount, 500), concurrency: 1, timeoutMs: 1000 });
          const ok = replies.filter((r) => r.ok).map((r) => r.ms);
          harness[t.label] = {
            n: ok.length,
            failures: replies.length - ok.length,
            median: percentile(ok, 50),
            p99: percentile(ok, 99),
            mean: round(ok.reduce((a, b) => a + b, 0) / Math.max(1, ok.length), 3),
          };
        }
        const series = (label: string): Series => {
          const m = measured.find((x) => x.label === label)!;
          return {
            n: m.connectUs.length,
            failures: m.failures,
            connectUs: { median: round(percentile(m.connectUs, 50)), p99: round(percentile(m.connectUs, 99)) },
            totalUs: { median: round(percentile(m.totalUs, 50)), p99: round(percentile(m.totalUs, 99)) },
            harnessMs: harness[label]!,
            backends: m.backends,
          };
        };
        results.push({
          services,
          mode,
          loadMs: round(loadMs),
          loadNote,
          first: { name: `${first.namespace}/${first.name}`, clusterIP: first.clusterIP, ...series('first') },
          last: { name: `${last.namespace}/${last.name}`, clusterIP: last.clusterIP, ...series('last') },
        });
      }
    }
  } finally {
    process.off('SIGINT', cleanup);
    process.off('SIGTERM', cleanup);
    await world.destroy();
  }
  return {
    results,
    note:
      'connectUs: connect() to SYN-ACK, measured in microseconds by bench/rtt-client.mjs (one process, sequential connections, each a new conntrack entry). ' +
      "harnessMs: the harness echo-client's per-attempt `ms` (connect + answer, rounded to whole milliseconds; one reused process, so no startup cost).",
  };
}

/** The cluster IPs of the first and last service rules of nat KUBE-SERVICES, in rule order. */
function serviceOrder(iptables: string): { first: string; last: string } {
  const ips = [...iptables.matchAll(/^-A KUBE-SERVICES .*cluster IP.* -d (\S+) --dport \d+ /gm)].map((m) => m[1]!);
  return { first: ips[0] ?? '', last: ips.at(-1) ?? '' };
}

// ---------------------------------------------------------------------------
// Report

function pad(text: string, width: number, right = true): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '-';
  return ms >= 10_000 ? `${round(ms / 1000, 1)}s` : `${round(ms)}`;
}

function table(cases: CaseResult[]): string {
  const header = ['case', 'mode', 'in MB', 'parse', 'load', 'valid', 'resolv', 'graph', 'emit', 'e2e', 'cpu', 'RSS MB', 'CLI', 'CLI RSS', 'out lines', 'out MB', 'kernel', 'k sys', 'kpc/k', '(l+v)/parse'];
  const widths = [8, 8, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 9, 6, 8, 6, 6, 10];
  const rows: string[][] = [];
  for (const c of cases) {
    for (const m of c.modes) {
      const s = m.split as Record<string, number>;
      const k = m.kernel;
      const kernelText = !k ? '-' : k.status === 'loaded' ? fmtMs(k.wallMs) : k.status === 'skipped' ? (k.predictedMs ? `~${fmtMs(k.predictedMs)}?` : 'skip') : 'FAIL';
      const ratio = k?.status === 'loaded' && k.wallMs ? `${round(m.e2e.wallMs / k.wallMs, 2)}` : '-';
      const floor = c.parseFloor?.parseMs;
      const lv = floor ? `${round(((s.loadMs ?? 0) + (s.validateMs ?? 0)) / floor, 2)}` : '-';
      rows.push([
        c.name,
        m.mode,
        String(c.input.MB),
        fmtMs(floor),
        fmtMs(s.loadMs),
        fmtMs(s.validateMs),
        fmtMs(s.resolveMs),
        fmtMs(s.graphMs),
        fmtMs(s.emitMs),
        fmtMs(m.e2e.wallMs),
        fmtMs(m.e2e.cpuMs),
        String(m.e2e.maxRssMB),
        fmtMs(m.cli?.wallMs),
        String(m.cli?.maxRssMB ?? '-'),
        String(m.output.lines),
        String(m.output.MB),
        kernelText,
        k?.sysMs != null ? fmtMs(k.sysMs) : '-',
        ratio,
        lv,
      ]);
    }
  }
  const line = (cells: string[]) => cells.map((cell, i) => pad(cell, widths[i]!, i > 1)).join(' ');
  return [line(header), ...rows.map(line)].join('\n');
}

function packetTable(packets: PacketResult[]): string {
  const header = ['services', 'mode', 'load', 'target', 'conn med µs', 'conn p99 µs', 'full med µs', 'full p99 µs', 'harness med/p99 ms', 'ok'];
  const widths = [8, 8, 7, 6, 11, 11, 11, 11, 18, 9];
  const rows: string[][] = [];
  for (const p of packets) {
    for (const which of ['first', 'last'] as const) {
      const s = p[which];
      rows.push([
        String(p.services),
        p.mode,
        fmtMs(p.loadMs),
        which,
        String(s.connectUs.median),
        String(s.connectUs.p99),
        String(s.totalUs.median),
        String(s.totalUs.p99),
        `${s.harnessMs.median}/${s.harnessMs.p99}`,
        `${s.n}/${s.n + s.failures}`,
      ]);
    }
  }
  const line = (cells: string[]) => cells.map((cell, i) => pad(cell, widths[i]!, i > 1)).join(' ');
  return [line(header), ...rows.map(line)].join('\n');
}

function targets(cases: CaseResult[]): Array<{ target: string; case: string; mode: string; value: string; met: boolean | null }> {
  const out: Array<{ target: string; case: string; mode: string; value: string; met: boolean | null }> = [];
  for (const c of cases) {
    for (const m of c.modes) {
      const s = m.split as Record<string, number>;
      const e2e = m.e2e;
      if (c.servicePorts === 10000 && c.source === 'slices' && c.format === 'yaml') {
        out.push({ target: 'generate < 2 s', case: c.name, mode: m.mode, value: `${round(e2e.wallMs / 1000, 2)} s (cpu ${round(e2e.cpuMs / 1000, 2)} s)`, met: e2e.wallMs < 2000 });
        out.push({ target: 'peak RSS < 1 GiB', case: c.name, mode: m.mode, value: `${e2e.maxRssMB} MB`, met: e2e.maxRssMB < 1024 });
      }
      if (c.servicePorts === 30000 && c.source === 'slices' && c.format === 'yaml') {
        out.push({ target: 'generate < 6 s', case: c.name, mode: m.mode, value: `${round(e2e.wallMs / 1000, 2)} s (cpu ${round(e2e.cpuMs / 1000, 2)} s)`, met: e2e.wallMs < 6000 });
        out.push({ target: 'peak RSS (reported)', case: c.name, mode: m.mode, value: `${e2e.maxRssMB} MB`, met: null });
      }
      const k = m.kernel;
      if (k?.status === 'loaded' && k.wallMs) {
        out.push({ target: "kpc time <= 1/4 of kernel load", case: c.name, mode: m.mode, value: `${round(e2e.wallMs / 1000, 2)} s vs ${round(k.wallMs / 1000, 2)} s (${round(e2e.wallMs / k.wallMs, 2)})`, met: e2e.wallMs <= k.wallMs / 4 });
      } else if (k?.status === 'skipped' && k.predictedMs) {
        out.push({ target: "kpc time <= 1/4 of kernel load", case: c.name, mode: m.mode, value: `${round(e2e.wallMs / 1000, 2)} s vs ~${round(k.predictedMs / 1000)} s predicted`, met: null });
      }
      if (c.parseFloor && s.loadMs !== undefined) {
        const ratio = (s.loadMs + s.validateMs!) / c.parseFloor.parseMs;
        const floorName = c.format === 'json' ? 'JSON.parse' : 'js-yaml';
        out.push({ target: `load+validate <= 2x ${floorName}`, case: c.name, mode: m.mode, value: `${round(s.loadMs + s.validateMs!)} ms vs ${round(c.parseFloor.parseMs)} ms (${round(ratio, 2)}x)`, met: ratio <= 2 });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = performance.now();
  await ensureBuilt();
  sweepStaleNamespaces();
  const info = machine();
  log(`machine: ${info.cpus} x ${info.cpuModel}, ${info.memoryGiB} GiB, ${info.kernel}, node ${info.node}, load average ${(info.loadAverageAtStart as number[]).join(' ')}`);
  const dir = mkdtempSync(join(os.tmpdir(), 'kpc-bench-'));
  const cases: Case[] = opts.sizes.map((n) => ({ name: `${n / 1000}k`, options: { servicePorts: n, endpointsPerPort: 10 }, kernel: true }));
  if (opts.json > 0) cases.push({ name: `${opts.json / 1000}k-json`, options: { servicePorts: opts.json, endpointsPerPort: 10, format: 'json' }, kernel: false });
  if (opts.pods > 0) cases.push({ name: `${opts.pods / 1000}k-pods`, options: { servicePorts: opts.pods, endpointsPerPort: 10, endpointSource: 'pods' }, kernel: false });
  const results: CaseResult[] = [];
  const kernelHistory = new Map<Mode, { lines: number; ms: number }>();
  let packets: Awaited<ReturnType<typeof firstPacket>> | null = null;
  let graphs: GraphTime[] = [];
  let rendered: RenderedTime | null = null;
  let incremental: IncrementalResult[] = [];
  try {
    if (!opts.incrementalOnly) {
      for (const c of cases) results.push(await measureCase(c, dir, opts, kernelHistory));
      if (opts.packets) packets = await firstPacket(opts, dir);
      graphs = await graphTimes(ROOT, dir, opts.graphs, opts.graphBudgetS * 1000, log);
      if (opts.renderedMB > 0) rendered = renderedTimes(ROOT, dir, opts.renderedMB, opts.repeat, log);
    }
    const available = opts.kernelBudgetS > 0 && kernelAvailable();
    incremental = await incrementalApply(ROOT, dir, opts.incremental, { nftFullLimit: opts.incrementalNftMax, fullApplyMax: opts.incrementalFullMax, rows: opts.incrementalRows, available, why: opts.kernelBudgetS > 0 ? kernelWhy : 'kernel loads off (--kernel-budget 0)' }, log);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const report = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    commit: tryVersion('git', ['-C', ROOT, 'rev-parse', 'HEAD']),
    workTreeDirty: (tryVersion('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src']) ?? '') !== '',
    machine: { ...info, loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)) },
    notes: [
      'Times in ms. e2e = bench/child.mjs, the CLI steps on dist/ (bundled as bin/kpc is) in a fresh process, spawn to exit (node start, imports, read, load, validate, resolve, graph, emit, write); cpu and RSS are that process CPU time (all threads) and peak RSS.',
      'Each kpc and parse measurement runs --repeat times; the median run is reported (its split with it), every run in runsMs.',
      'CLI = bin/kpc generate itself (with --import bench/maxrss.mjs for its peak RSS and CPU), run for --cli-sizes as a cross-check of e2e.',
      'parse = js-yaml loadAll of the same input alone (JSON.parse for the JSON case): the floor for the load step.',
      'kernel = wall time of iptables-restore / nft -f loading the output in a fresh network namespace; sys = kernel CPU time of that load.',
      'kpc/k = e2e wall / kernel load; (l+v)/parse = (load + validate) / parse. Targets are reported, not asserted.',
      'The machine may be shared: compare CPU times (CLI cpu, parseCpuMs, compileCpuMs) when load averages are high.',
    ],
    cases: results,
    targets: targets(results),
    firstPacket: packets,
    graphs,
    rendered,
    incrementalApply: incremental,
    benchSeconds: round((performance.now() - started) / 1000),
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(report, null, 2) + '\n');

  const print = (s: string) => process.stdout.write(s + '\n');
  print('');
  print(`kpc bench — ${info.cpus} x ${info.cpuModel}, ${info.memoryGiB} GiB, ${info.kernel}, node ${info.node}`);
  print(`load average start ${(info.loadAverageAtStart as number[]).join(' ')}, end ${report.machine.loadAverageAtEnd.join(' ')}`);
  print('');
  print(table(results));
  print('');
  print('Times in ms (or s). parse = js-yaml loadAll (JSON.parse for json) alone; e2e = the CLI steps (bench/child.mjs on dist/) in a fresh process,');
  print('spawn to exit; cpu = its CPU time; CLI = bin/kpc generate itself (--cli-sizes); kernel = iptables-restore / nft -f');
  print('in a fresh netns (~N? = skipped, predicted), k sys = its kernel CPU; kpc/k = e2e / kernel; (l+v)/parse = (load+validate) / parse.');
  print('');
  for (const t of report.targets) print(`${t.met === null ? '  ?' : t.met ? ' ok' : 'MISS'}  ${t.target.padEnd(32)} ${t.case.padEnd(9)} ${t.mode.padEnd(9)} ${t.value}`);
  if (packets && 'results' in packets) {
    print('');
    print('First packet: NEW TCP connection to the cluster IP of the first / last service in the rule set');
    print(packetTable(packets.results));
  } else if (packets) print(`\nFirst packet: skipped (${packets.skipped})`);
  const compactRows = results.filter((r) => r.compact);
  if (compactRows.length) {
    print('');
    print('nftables layouts, the same cluster: kube-proxy layout `nft -f` vs --layout compact (first load, second load of the same file)');
    for (const r of compactRows) {
      const kp = r.modes.find((m) => m.mode === 'nftables')?.kernel;
      const show = (k: KernelLoad | null | undefined) => (!k ? '-' : k.status === 'loaded' ? `${(k.wallMs! / 1000).toFixed(2)} s` : k.status === 'skipped' ? `skipped (${k.predictedMs ? `~${round(k.predictedMs / 1000)} s` : k.reason})` : 'failed');
      const ratio = kp?.status === 'loaded' && r.compact!.first.status === 'loaded' ? ` (1/${round(kp.wallMs! / r.compact!.first.wallMs!, 1)})` : '';
      print(`  ${r.name.padEnd(6)} kube-proxy ${show(kp)}  compact ${r.compact!.lines} lines, kpc ${(r.compact!.cliMs / 1000).toFixed(2)} s, load ${show(r.compact!.first)}${ratio}, again ${show(r.compact!.second)}`);
    }
  }
  if (rendered) {
    print('');
    print(`rendered manifests (${rendered.megabytes} MB, ${rendered.documents} documents, mostly CRDs): js-yaml parse in a fresh process ${rendered.parseMs} ms;`);
    print(`  kpc validate ${rendered.validateMs} ms (${rendered.validateRatio}x), kpc generate --simulate ${rendered.generateMs} ms (${rendered.generateRatio}x); target 1.5x`);
  }
  if (graphs.length) {
    print('');
    print('kpc graph: service ports, boxes, kpc graph --format dot, Graphviz dot -Tsvg on it, kpc graph --format svg (default --max-boxes)');
    for (const g of graphs) {
      const layout = g.graphvizSvgMs === null ? `> ${g.graphvizBudgetMs / 1000} s (killed)` : `${(g.graphvizSvgMs / 1000).toFixed(1)} s`;
      print(`  ${String(g.servicePorts).padStart(5)}  ${String(g.boxes).padStart(6)} boxes  dot ${(g.kpcDotMs / 1000).toFixed(2)} s  Graphviz ${layout}  svg exit ${g.kpcSvg.exitCode} in ${(g.kpcSvg.ms / 1000).toFixed(2)} s`);
    }
  }
  if (incremental.length) {
    print('');
    for (const line of incrementalTable(incremental)) print(line);
  }
  print('');
  print(`wrote ${relative(ROOT, opts.out)} in ${report.benchSeconds} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
