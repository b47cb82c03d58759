import type { NftLayout } from '../../src/compile.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyGraph, netnsTarget, type ApplyMode } from '../../src/apply/index.js';
import { createWorld, describeKernel, type Pod, type World } from '../kernel/harness.js';
import { service, slices } from '../kernel/manifests.js';
import { compile, HOLD_CLIENT, HOLD_SERVER, nextLine, Programs, runDir, udpProbe } from './helpers.js';

// (1) apply, change the manifests, apply again: traffic follows the change,
// a TCP connection held open through an unchanged service survives, a UDP
// client pinned (by conntrack) to an endpoint that went away moves on, and
// a second apply of the same input changes nothing and says so.

const WEB = { ip: '10.96.0.10', port: 80 };
const DNS = { ip: '10.96.0.53', port: 53 };
const HOLD = { ip: '10.96.0.30', port: 9000 };

function manifests(world: World, version: 1 | 2): object[] {
  const pod = (name: string): Pod => world.pod(name);
  const tcp80 = [{ port: 80 }];
  const udp53 = [{ port: 53, protocol: 'UDP' as const }];
  const hold = [{ port: 9000 }];
  const objects: object[] = [
    service('hold', { clusterIPs: [HOLD.ip], ports: hold }),
    ...slices('hold', hold, [{ pod: pod('local-3') }]),
    service('web', { clusterIPs: [WEB.ip], ports: tcp80 }),
    ...slices('web', tcp80, version === 1 ? [{ pod: pod('local-1') }, { pod: pod('remote-1') }] : [{ pod: pod('local-1') }, { pod: pod('local-2') }]),
    service('dns', { clusterIPs: [DNS.ip], ports: udp53 }),
    ...slices('dns', udp53, version === 1 ? [{ pod: pod('local-2') }, { pod: pod('remote-2') }] : [{ pod: pod('remote-2') }]),
  ];
  if (version === 1) {
    const api = [{ port: 8080, nodePort: 30080 }];
    objects.push(service('api', { type: 'NodePort', clusterIPs: ['10.96.0.20'], ports: api }), ...slices('api', api, [{ pod: pod('remote-1') }]));
  }
  return objects;
}

describeKernel('kpc apply in a real kernel: changes, held connections, UDP conntrack, idempotence', () => {
  // Both nftables layouts: the compact one's changes are mostly elements of shared maps.
  describe.each([
    ['iptables', undefined],
    ['nftables', 'kube-proxy'],
    ['nftables', 'compact'],
  ] as [ApplyMode, NftLayout | undefined][])('%s %s', (mode, layout) => {
    let world: World;
    const programs = new Programs();
    const run = runDir();
    beforeAll(async () => {
      world = await createWorld();
    });
    afterAll(async () => {
      await programs.stopAll();
      await world?.destroy();
      run.remove();
    });

    const backends = async (from: Pod, to: { ip: string; port: number }, proto: 'tcp' | 'udp' = 'tcp') => {
      const replies = await world.request(from, { ...to, proto }, { count: 40, timeoutMs: 2000 });
      return new Set(replies.map((r) => (r.ok ? r.backend : `failed:${r.error}`)));
    };

    it('follows a change of endpoints and services, keeps a held TCP connection, moves a pinned UDP client, and then reports no change', async () => {
      const target = netnsTarget(world.node.netns);
      const apply = (version: 1 | 2) => applyGraph(compile(manifests(world, version)), { mode, layout, target, runDir: run.path });
      const t0 = performance.now();
      const first = await apply(1);
      const tFirst = performance.now() - t0;
      expect(first.changed).toBe(true);

      const client = world.pod('local-3');
      expect(await backends(client, WEB)).toEqual(new Set(['local-1', 'remote-1']));
      expect(await backends(client, DNS, 'udp')).toEqual(new Set(['local-2', 'remote-2']));
      const nodePort = await world.request(world.client, { ip: '192.0.2.10', port: 30080, proto: 'tcp' });
      expect(nodePort[0]).toMatchObject({ ok: true, backend: 'remote-1' });

      // A connection held open through the unchanged service "hold".
      const server = programs.start(world.pod('local-3').netns, HOLD_SERVER, ['9000']);
      expect(await nextLine(server.lines)).toBe('ready');
      const held = programs.start(world.pod('remote-1').netns, HOLD_CLIENT, [HOLD.ip, String(HOLD.port)]);
      expect(await nextLine(held.lines)).toBe('connected');
      held.send('before');
      expect(await nextLine(held.lines)).toBe('got:before');

      // A UDP client whose conntrack entry DNATs to local-2 (which version 2 removes).
      let pinned = 0;
      for (let sport = 41000; sport < 41040 && !pinned; sport++) {
        if ((await udpProbe(client.netns, sport, DNS.ip, DNS.port)).backend === 'local-2') pinned = sport;
      }
      expect(pinned, 'some source port reaches local-2').not.toBe(0);
      expect((await udpProbe(client.netns, pinned, DNS.ip, DNS.port)).backend, 'the entry sticks').toBe('local-2');

      const t1 = performance.now();
      const second = await apply(2);
      const tSecond = performance.now() - t1;
      expect(second.changed).toBe(true);
      expect(second.applied.join(), 'the host holds the first apply\'s rules: only the differences are sent').toContain('incremental');
      expect(second.conntrack.join('\n')).toContain('--dst-nat 10.244.1.3');

      expect(await backends(client, WEB)).toEqual(new Set(['local-1', 'local-2']));
      expect(await backends(client, DNS, 'udp')).toEqual(new Set(['remote-2']));
      expect((await udpProbe(client.netns, pinned, DNS.ip, DNS.port)).backend, 'the pinned client moved on').toBe('remote-2');
      const gone = await world.request(world.client, { ip: '192.0.2.10', port: 30080, proto: 'tcp' });
      expect(gone[0]!.ok, 'the removed node port no longer answers').toBe(false);

      held.send('after');
      expect(await nextLine(held.lines), 'the held connection survived the apply').toBe('got:after');

      const t2 = performance.now();
      const third = await apply(2);
      const tThird = performance.now() - t2;
      expect(third.changed).toBe(false);
      expect(third.diff).toBe('');
      expect(third.conntrack).toEqual([]);
      held.send('still');
      expect(await nextLine(held.lines)).toBe('got:still');
      console.log(`[apply ${mode}${layout ? ` ${layout}` : ''}] first ${Math.round(tFirst)} ms, change ${Math.round(tSecond)} ms, no-change ${Math.round(tThird)} ms`);
    }, 120_000);
  });
});
