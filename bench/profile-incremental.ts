// Offline profile of the incremental path's pure parts (no kernel): emit,
// parse both texts, plan (iptables: also from the texts' differences, as
// apply does), count Services by reading back, per format.
//   npx tsx bench/profile-incremental.ts 10000
import { generateCluster } from './generate-cluster.js';
import { oneEndpointChanged } from './incremental-apply.js';
import { compileGraph, emit } from '../src/compile.js';
import { parseRestore, planRestore } from '../src/apply/iptables-plan.js';
import { planRestoreText } from '../src/apply/iptables-text-plan.js';
import { parseNft, planNft } from '../src/apply/nft-plan.js';
import { readRuleSet } from '../src/read/index.js';
import { serviceChanges } from '../src/apply/services.js';
import { textHash } from '../src/apply/generation.js';

const n = Number(process.argv[2] ?? 10000);
const cluster = generateCluster({ servicePorts: n, endpointsPerPort: 10 });
const opts = { nodeName: cluster.node.name, nodeIPs: [cluster.node.ip], clusterCIDRs: [cluster.node.clusterCIDR] };
const time = <T>(label: string, f: () => T): T => {
  const t = performance.now();
  const r = f();
  console.log(`${label.padEnd(40)} ${Math.round(performance.now() - t)} ms`);
  return r;
};
const a = time('compile A', () => compileGraph([{ name: 'a', text: cluster.text }], opts).graph);
const b = time('compile B', () => compileGraph([{ name: 'b', text: oneEndpointChanged(cluster.text) }], opts).graph);
for (const [mode, layout] of [['iptables', undefined], ['nftables', 'kube-proxy'], ['nftables', 'compact']] as const) {
  console.log(`--- ${mode} ${layout ?? ''}`);
  const ta = emit(a, { mode, family: 4, layout });
  const tb = time('emit B', () => emit(b, { mode, family: 4, layout }));
  console.log(`text ${(tb.length / 1e6).toFixed(1)} MB`);
  time('hash', () => textHash(tb));
  if (mode === 'iptables') {
    const pa = time('parseRestore A', () => parseRestore(ta));
    const pb = time('parseRestore B', () => parseRestore(tb));
    const plan = time('planRestore', () => planRestore(pa, pb));
    console.log(plan.kind, plan.kind === 'incremental' ? plan.changes : '');
    // What apply runs: the plan from the texts' differences (the two above are its fallback).
    const fromText = time('planRestoreText', () => planRestoreText(ta, tb));
    console.log(fromText?.kind, fromText?.kind === 'incremental' ? fromText.changes : '');
  } else {
    const pa = time('parseNft A', () => parseNft(ta));
    const pb = time('parseNft B', () => parseNft(tb));
    const plan = time('planNft', () => planNft(pa, pb));
    console.log(plan.kind, plan.kind === 'incremental' ? plan.changes : '', plan.kind === 'incremental' ? plan.transaction.slice(0, 600) : '');
  }
  if (process.env.READBACK) {
    const ma = time('read back A', () => readRuleSet(ta, mode));
    const mb = time('read back B', () => readRuleSet(tb, mode));
    console.log(time('serviceChanges', () => JSON.stringify(serviceChanges(ma, mb))).slice(0, 200));
  }
}
