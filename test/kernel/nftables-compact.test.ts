import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileGraph, emit } from '../../src/compile.js';
import { diffModels } from '../../src/diff/diff.js';
import { readRuleSet } from '../../src/read/index.js';
import type { Pod } from './harness.js';
import { describeKernel } from './harness.js';
import { service, slices, toYaml, type PortSpec } from './manifests.js';
import { createContext, packetFlowScenarios, type Ctx } from './packet-flow.js';

const HTTP: PortSpec[] = [{ name: 'http', port: 80, targetPort: 8080 }];

describeKernel('nftables mode, compact layout, in a real kernel', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await createContext('nftables-compact');
  });
  afterAll(() => ctx?.world.destroy());
  packetFlowScenarios(() => ctx);

  // ClientIP affinity in the compact layout remembers `client . frontend . endpoint index`
  // in one set per kind, protocol and timeout (docs/nftables-compact.md).

  it('ClientIP affinity: every new connection refreshes the timeout, and the client is forgotten after it', async () => {
    const client = ctx.pod('local-3');
    const eps = ['local-1', 'local-2', 'remote-1', 'remote-2'].map((n) => ({ pod: ctx.pod(n) }));
    await ctx.load([service('brief', { clusterIPs: ['10.96.0.32'], ports: HTTP, sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 3 }), ...slices('brief', HTTP, eps)]);
    const remembered = () => rememberedIndexes(ctx, 'affinity-cluster-tcp-3', `${client.ip[4]} . 10.96.0.32 . 80`);
    const first = await backends(ctx, client, '10.96.0.32', 3);
    expect(first.size).toBe(1);
    expect(await remembered()).toHaveLength(1);
    await sleep(2000);
    expect(await backends(ctx, client, '10.96.0.32', 1)).toEqual(first);
    // 4 s after the first connection, 3 s timeout: still there only because the second connection refreshed it.
    await sleep(2000);
    expect(await remembered()).toHaveLength(1);
    await sleep(3500);
    expect(await remembered()).toEqual([]);
  }, 30_000);

  it('ClientIP affinity: a remembered index beyond a shrunk endpoint list is picked anew, never black-holed', async () => {
    const client = ctx.pod('local-3');
    const four = ['local-1', 'local-2', 'remote-1', 'remote-2'].map((n) => ({ pod: ctx.pod(n) }));
    const two = ['local-1', 'remote-1'].map((n) => ({ pod: ctx.pod(n) }));
    // `pair` has 2 endpoints, so the table has the 2-endpoint affinity chains that `sticky` moves to.
    const pair = [service('pair', { clusterIPs: ['10.96.0.33'], ports: HTTP, sessionAffinity: 'ClientIP' }), ...slices('pair', HTTP, two)];
    const sticky = service('sticky4', { clusterIPs: ['10.96.0.34'], ports: HTTP, sessionAffinity: 'ClientIP' });
    await ctx.load([sticky, ...slices('sticky4', HTTP, four), ...pair]);
    const frontend = '10.96.0.34 . tcp . 80';
    const before = mapElements(ctx.loaded!.nftables!, 'cluster-endpoints-n4', frontend);
    expect(before).toHaveLength(4);
    // The client was sent to index 3 (the set is filled as the kernel's update would).
    await nft(ctx, `add element ip kube-proxy affinity-cluster-tcp-10800 { ${client.ip[4]} . 10.96.0.34 . 80 . 3 }`);
    expect([...(await backends(ctx, client, '10.96.0.34', 5))]).toEqual([podAt(ctx, before[3]!)]);

    // The endpoint list shrinks to 2, element by element as an incremental update would change it: the frontend's
    // verdict now goes to the 2-endpoint chain, and its elements move to that size's map.
    const after = emit(compile(ctx, [sticky, ...slices('sticky4', HTTP, two), ...pair]), { mode: 'nftables', family: 4, layout: 'compact' });
    const now = mapElements(after, 'cluster-endpoints-n2', frontend);
    await nft(
      ctx,
      [
        `delete element ip kube-proxy service-ips { ${frontend} }`,
        `add element ip kube-proxy service-ips { ${frontend} : goto cluster-n2-affinity-tcp-10800 }`,
        `delete element ip kube-proxy cluster-endpoints-n4 { ${before.map((_, i) => `${frontend} . ${i}`).join(', ')} }`,
        `add element ip kube-proxy cluster-endpoints-n2 { ${now.map((endpoint, i) => `${frontend} . ${i} : ${endpoint.replace(':', ' . ')}`).join(', ')} }`,
      ].join('; '),
    );
    // The table now means what kpc writes for the new endpoints.
    const listing = (await ctx.world.exec(ctx.world.node, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
    expect(diffModels(readRuleSet(after, 'nftables'), readRuleSet(listing, 'nftables')).changes).toEqual([]);

    const seen = await backends(ctx, client, '10.96.0.34', 10);
    expect(seen.size, 'sticks to one endpoint again').toBe(1);
    expect(now.map((endpoint) => podAt(ctx, endpoint))).toContain([...seen][0]);
    const indexes = await rememberedIndexes(ctx, 'affinity-cluster-tcp-10800', `${client.ip[4]} . 10.96.0.34 . 80`);
    expect(indexes.filter((i) => i < 2)).toHaveLength(1);
  }, 30_000);
});

function compile(ctx: Ctx, objects: object[]) {
  return compileGraph([{ name: 'scenario.yaml', text: toYaml(objects) }], {
    nodeName: 'node',
    nodeIPs: ['192.0.2.10', '2001:db8::10'],
    clusterCIDRs: [ctx.world.clusterCIDR[4], ctx.world.clusterCIDR[6]],
  }).graph;
}

/** Backends that answered `count` connections, each on a new socket (so each a new connection). */
async function backends(ctx: Ctx, from: Pod, ip: string, count: number): Promise<Set<string>> {
  const replies = await ctx.world.request(from, { ip, port: 80, proto: 'tcp' }, { count, timeoutMs: 2000, concurrency: 1 });
  const failed = replies.filter((r) => !r.ok);
  expect(failed, `every request should be answered: ${JSON.stringify(failed)}`).toEqual([]);
  return new Set(replies.map((r) => (r.ok ? r.backend : '')));
}

/** The endpoint indexes the kernel remembers for `client . frontend`, from its own listing. */
async function rememberedIndexes(ctx: Ctx, set: string, prefix: string): Promise<number[]> {
  const result = await ctx.world.exec(ctx.world.node, ['nft', 'list', 'set', 'ip', 'kube-proxy', set]);
  expect(result.exitCode, result.stderr).toBe(0);
  const escaped = prefix.replace(/[.]/g, '\\.');
  return [...result.stdout.matchAll(new RegExp(`${escaped} \\. (\\d+)\\b`, 'g'))].map((m) => Number(m[1]));
}

/** `ip:port` of a frontend's DNAT map elements in kpc's file, by index. */
function mapElements(text: string, map: string, frontend: string): string[] {
  const block = new RegExp(`^add element ip kube-proxy ${map} \\{\\n([^}]*)\\}`, 'm').exec(text)?.[1] ?? '';
  const found: string[] = [];
  for (const line of block.split('\n')) {
    const match = /^\t(.*) \. (\d+) : (\S+) \. (\d+),$/.exec(line);
    if (match && match[1] === frontend) found[Number(match[2])] = `${match[3]}:${match[4]}`;
  }
  return found;
}

function podAt(ctx: Ctx, endpoint: string): string {
  const ip = endpoint.split(':')[0];
  return ctx.world.pods.find((pod) => pod.ip[4] === ip)?.name ?? `no pod at ${ip}`;
}

async function nft(ctx: Ctx, commands: string): Promise<void> {
  const result = await ctx.world.exec(ctx.world.node, ['nft', commands]);
  expect(result.exitCode, `nft ${commands}: ${result.stderr}`).toBe(0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
