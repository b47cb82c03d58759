// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by package or
// kpc source file, the top functions by self time, and the total time spent
// under a few functions of interest (inclusive). Prints JSON.
//
//   node bench/profile-summary.mjs FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';

/** What a frame belongs to: a package under node_modules, a kpc file, node itself, or V8 (GC, program). */
export function owner(url, functionName) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return `V8 ${functionName}`;
    return 'native';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  const own = /\/(dist|src)\/(.+?)\.(?:js|ts)$/.exec(url);
  if (own) return `kpc ${own[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '');
}

export function summarize(profile, top = 25) {
  const { nodes, samples, timeDeltas } = profile;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const byOwner = new Map();
  const byFunction = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const o = owner(callFrame.url, callFrame.functionName);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const key = `${callFrame.functionName || '(anonymous)'} ${o}:${callFrame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  // Inclusive time under chosen entry points: a sample counts once per entry
  // point if any ancestor frame is that function.
  const roots = ['loadSources', 'loadAll', 'validateObjects', 'checkShape', 'resolveEndpoints', 'buildGraph', 'emitIptables', 'emitNftables', 'buildIptables', 'buildNftTable', 'template', 'base32Sha256', 'ret'];
  const inclusive = Object.fromEntries(roots.map((r) => [r, 0]));
  const ancestry = new Map();
  const namesUp = (id) => {
    if (ancestry.has(id)) return ancestry.get(id);
    const names = new Set();
    const p = parent.get(id);
    if (p !== undefined) for (const n of namesUp(p)) names.add(n);
    names.add(byId.get(id).callFrame.functionName);
    ancestry.set(id, names);
    return names;
  };
  for (const [id, us] of selfUs) {
    const names = namesUp(id);
    for (const r of roots) if (names.has(r)) inclusive[r] += us;
  }
  // GC samples have no caller: charge each to the step of the last JS sample
  // before it (GC runs when that step allocates). Steps are compileGraph's
  // phases and the emitters, found by name among a sample's ancestors.
  const phases = ['loadSources', 'validateObjects', 'resolveEndpoints', 'buildGraph', 'emitIptables', 'emitNftables', 'writeAtomically'];
  const phaseOf = (id) => {
    const names = namesUp(id);
    return phases.find((p) => names.has(p)) ?? 'other';
  };
  const byPhase = {};
  let current = 'other';
  for (let i = 0; i < samples.length; i++) {
    const frame = byId.get(samples[i]).callFrame;
    const us = timeDeltas[i] ?? 0;
    if (frame.functionName === '(garbage collector)') {
      byPhase[current] ??= { selfMs: 0, gcMs: 0 };
      byPhase[current].gcMs += us;
      continue;
    }
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
    current = phaseOf(samples[i]);
    byPhase[current] ??= { selfMs: 0, gcMs: 0 };
    byPhase[current].selfMs += us;
  }
  const ms = (us) => Math.round(us / 100) / 10;
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: ms(total),
    selfByOwner: sorted(byOwner).slice(0, 20).map(([k, v]) => ({ owner: k, ms: ms(v), pct: Math.round((v / total) * 1000) / 10 })),
    topFunctions: sorted(byFunction).slice(0, top).map(([k, v]) => ({ function: k, ms: ms(v), pct: Math.round((v / total) * 1000) / 10 })),
    inclusiveMs: Object.fromEntries(Object.entries(inclusive).map(([k, v]) => [k, ms(v)])),
    byStep: Object.fromEntries(Object.entries(byPhase).map(([k, v]) => [k, { jsMs: ms(v.selfMs), gcMs: ms(v.gcMs) }])),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  const top = process.argv[3] === '--top' ? Number(process.argv[4]) : 25;
  if (!file) {
    process.stderr.write('usage: profile-summary.mjs FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(summarize(JSON.parse(readFileSync(file, 'utf8')), top), null, 1) + '\n');
}
