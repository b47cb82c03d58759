import { afterAll, beforeAll, expect, it } from 'vitest';
import { explainPacket, type Explanation } from '../../src/explain/index.js';
import type { Host, Pod, World } from './harness.js';
import { describeKernel } from './harness.js';
import { createContext, packetFlowScenarios, type Backend, type Ctx, type Observation } from './packet-flow.js';

/**
 * `kpc explain` predicts from the rule text alone; the kernel decides for
 * real. Every packet-flow scenario runs again here with a hook: for each
 * burst of requests, explain traces the same (source, destination) through
 * the text just loaded, and its prediction must agree with what the backends
 * reported (which ones answered, what source they saw) or with how the
 * connection failed (REJECT is refused, DROP is a timeout). The kernel's own
 * listing of what it loaded (nft list ruleset, iptables-save) must trace to
 * the same outcomes, so `kpc explain --rules` on a live dump is covered too.
 */

const NODE = { 4: '192.0.2.10', 6: '2001:db8::10' } as const;
/** A predicted backend must be seen unless missing it by chance is this unlikely. */
const NEGLIGIBLE = 1e-6;

for (const backend of ['iptables', 'nftables', 'nftables-compact'] as const) {
  describeKernel(`explain agrees with the kernel: ${backend}`, () => {
    let ctx: Ctx;
    let checked = 0;
    beforeAll(async () => {
      ctx = await createContext(backend);
      ctx.observe = async (observation) => {
        await agree(ctx, backend, observation);
        checked++;
      };
    });
    afterAll(() => ctx?.world.destroy());
    packetFlowScenarios(() => ctx);
    it('compared a prediction for every request burst', () => {
      // Not vacuous: the scenarios make more than 25 bursts through the hook.
      expect(checked).toBeGreaterThan(25);
    });
  });
}

async function agree(ctx: Ctx, backend: Backend, { from, to, replies }: Observation): Promise<void> {
  const family = to.ip.includes(':') ? 6 : 4;
  const src = sourceOf(from, family);
  const mode = backend === 'iptables' ? 'iptables' : 'nftables';
  const text = mode === 'nftables' ? ctx.loaded!.nftables! : ctx.loaded!.iptables![family];
  const node = { ips: [NODE[4], NODE[6]], clusterCIDRs: [ctx.world.clusterCIDR[4], ctx.world.clusterCIDR[6]] };
  const packet = { family, src, dst: to.ip, dport: to.port, protocol: to.proto } as const;
  const explanation = explainPacket(text, mode, packet, node);
  const label = `${src} -> ${to.ip}:${to.port}/${to.proto}: ${JSON.stringify(explanation.outcomes)}`;
  expect(explanation.warnings, label).toEqual([]);
  const listed = explainPacket(await kernelListing(ctx.world, mode, family), mode, packet, node);
  expect(listed.warnings, `${label}: traced from the kernel's own listing`).toEqual([]);
  const answered = replies.filter((r) => r.ok);
  if (listed.affinityRemembered) {
    // nft lists the affinity set as this burst filled it: the client now goes to the one backend it got.
    expect(listed.outcomes.length, `${label}: a remembered client has one way`).toBe(1);
    expect(answered.map((r) => r.backend).filter((b, i, all) => all.indexOf(b) === i), label).toEqual([podAt(ctx.world, listed.outcomes[0]!)]);
  } else expect(listed.outcomes, `${label}: traced from the kernel's own listing`).toEqual(explanation.outcomes);
  if (answered.length === replies.length) agreeAnswered(ctx.world, explanation, answered, src, label);
  else if (answered.length === 0) agreeRefused(explanation, replies.map((r) => (r.ok ? '' : r.error)), label);
  else expect.fail(`${label}: some requests were answered and some not: ${JSON.stringify(replies)}`);
}

function agreeAnswered(world: World, e: Explanation, replies: Extract<Observation['replies'][number], { ok: true }>[], src: string, label: string): void {
  const family = e.packet.family;
  const byIP = new Map(world.pods.map((pod) => [family === 4 ? pod.ip[4] : pod.ip[6]!, pod.name]));
  const backends = e.outcomes.filter((o) => o.kind === 'backend');
  expect(backends.length, `${label}: every request was answered, so every outcome must reach a backend`).toBe(e.outcomes.length);
  const predicted = new Map(backends.map((o) => [byIP.get(o.endpoint.replace(/^\[?(.*?)\]?:\d+$/, '$1')) ?? o.endpoint, o]));
  const seen = new Set(replies.map((r) => r.backend));
  for (const name of seen) expect(predicted.has(name), `${label}: ${name} answered but explain does not predict it`).toBe(true);
  if (e.affinitySeconds === null) {
    for (const [name, outcome] of predicted) {
      if ((1 - outcome.probability) ** replies.length < NEGLIGIBLE) expect(seen.has(name), `${label}: ${name} predicted at ${outcome.probability} but never answered in ${replies.length} tries`).toBe(true);
    }
  } else expect(seen.size, `${label}: ClientIP affinity keeps one client on one backend`).toBe(1);
  const expectedSources = new Set([...seen].map((name) => (predicted.get(name)!.masquerade ? NODE[family] : src)));
  expect(new Set(replies.map((r) => r.sawSource)), `${label}: the source the backends saw`).toEqual(expectedSources);
}

function agreeRefused(e: Explanation, errors: string[], label: string): void {
  const kinds = new Set(e.outcomes.map((o) => (o.kind === 'untouched' && o.delivered === 'forwarded' ? 'drop' : o.kind)));
  if (errors.every((error) => error === 'refused')) expect([...kinds], `${label}: refused at once means REJECT`).toEqual(['reject']);
  else if (errors.every((error) => error === 'timeout')) expect([...kinds], `${label}: a timeout means a DROP (or no translation into the black hole)`).toEqual(['drop']);
  else expect.fail(`${label}: unexpected failures ${JSON.stringify(errors)}`);
}

function podAt(world: World, outcome: Explanation['outcomes'][number]): string {
  const ip = outcome.kind === 'backend' ? outcome.endpoint.replace(/^\[?(.*?)\]?:\d+$/, '$1') : '';
  return world.pods.find((pod) => pod.ip[4] === ip || pod.ip[6] === ip)?.name ?? `no pod at ${ip}`;
}

/** What the node's kernel says it has loaded, in the tools' own output format. */
async function kernelListing(world: World, mode: 'iptables' | 'nftables', family: 4 | 6): Promise<string> {
  const argv = mode === 'nftables' ? ['nft', 'list', 'ruleset'] : [family === 4 ? 'iptables-save' : 'ip6tables-save'];
  const result = await world.exec(world.node, argv);
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function sourceOf(from: Host | Pod, family: 4 | 6): string {
  if ('nodeName' in from) return family === 4 ? from.ip[4] : from.ip[6]!;
  return from.ips[family][0]!;
}
