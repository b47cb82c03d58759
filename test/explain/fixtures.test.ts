import { describe, expect, it } from 'vitest';
import { fitComment } from '../../src/emit/nftables/table.js';
import { explainPacket, type Explanation, type NodeFacts, type Outcome } from '../../src/explain/index.js';
import type { IPFamily, RoutingGraph, ServicePortRoute } from '../../src/graph/types.js';
import { compileFixture, fixtureCases, render } from '../helpers/fixtures.js';

/**
 * For every fixture, every frontend of every service port, from a pod, from
 * the node and from outside: the trace through the iptables text and the
 * trace through the nftables text end the same way, and the cluster-IP trace
 * from a pod ends where the routing graph says it should. The two texts are
 * written by different emitters and read by different tracers, so agreeing
 * is evidence about both; the kernel test (test/kernel/explain-agrees)
 * checks the tracers against real packets.
 */

const OUTSIDE = { 4: '203.0.113.77', 6: '2001:db8:ffff::77' } as const;

interface Probe {
  label: string;
  origin: 'pod' | 'node' | 'outside';
  kind: 'cluster-ip' | 'external' | 'node-port';
  src: string;
  dst: string;
  port: number;
}

for (const fixture of fixtureCases()) {
  describe(fixture.name, () => {
    it('iptables and nftables traces end the same way for every frontend and origin', async () => {
      const graph = await compileFixture(fixture);
      const node = nodeFacts(graph);
      let probes = 0;
      for (const route of graph.servicePorts) {
        for (const probe of probesFor(route, graph)) {
          const [iptables, nftables] = (['iptables', 'nftables'] as const).map((mode) => trace(graph, mode, route, probe, node));
          expect(iptables!.warnings, probe.label).toEqual([]);
          expect(nftables!.warnings, probe.label).toEqual([]);
          if (probe.kind === 'external' && probe.origin === 'node' && !route.hasEndpoints) {
            // kube-proxy's own difference: iptables rejects "no endpoints" for external IPs in
            // KUBE-EXTERNAL-SERVICES, which only INPUT and FORWARD jump to; nftables checks in
            // filter-output too. The node's own packet goes out unchanged in one, refused in the other.
            expect(iptables!.outcomes.map((o) => o.kind), probe.label).toEqual(['untouched']);
            expect(nftables!.outcomes.map((o) => o.kind), probe.label).toEqual(['reject']);
          } else expect(comparable(iptables!), `${route.id} ${probe.label}`).toEqual(comparable(nftables!));
          probes++;
        }
      }
      expect(probes).toBeGreaterThanOrEqual(graph.servicePorts.length);
    });

    it('compact-layout traces end as kube-proxy-layout traces do, for every frontend and origin (service names aside: the compact layout has no per-service chains to name them)', async () => {
      const graph = await compileFixture(fixture);
      const node = nodeFacts(graph);
      let probes = 0;
      for (const route of graph.servicePorts) {
        for (const probe of probesFor(route, graph)) {
          const [kubeProxy, compact] = (['nftables', 'compact'] as const).map((mode) => trace(graph, mode, route, probe, node));
          expect(compact!.warnings, probe.label).toEqual([]);
          expect(compact!.outcomes.length, probe.label).toBeGreaterThan(0);
          expect(comparable(compact!, false), `${route.id} ${probe.label}`).toEqual(comparable(kubeProxy!, false));
          probes++;
        }
      }
      expect(probes).toBeGreaterThanOrEqual(graph.servicePorts.length);
    });

    it("a pod's packet to a cluster IP ends where the routing graph says", async () => {
      const graph = await compileFixture(fixture);
      for (const route of graph.servicePorts) {
        const src = podSource(graph, route.family);
        if (!src) continue;
        for (const mode of ['iptables', 'nftables'] as const) {
          const e = trace(graph, mode, route, { label: 'pod', origin: 'pod', kind: 'cluster-ip', src, dst: route.clusterIP, port: route.port }, nodeFacts(graph));
          expect(comparable(e), `${mode} ${route.id}`).toEqual(expectedInternal(route, graph));
        }
      }
    });
  });
}

/** `compact`: nftables mode in the compact layout. */
function trace(graph: RoutingGraph, mode: 'iptables' | 'nftables' | 'compact', route: ServicePortRoute, probe: Probe, node: NodeFacts): Explanation {
  const text = mode === 'compact' ? render(graph, 'nftables', route.family, 'compact') : render(graph, mode, route.family);
  const protocol = route.protocol.toLowerCase() as 'tcp' | 'udp' | 'sctp';
  return explainPacket(text, mode === 'compact' ? 'nftables' : mode, { family: route.family, src: probe.src, dst: probe.dst, dport: probe.port, protocol }, node);
}

function nodeFacts(graph: RoutingGraph): NodeFacts {
  const { node } = graph;
  return { ips: [...node.ips[4], ...node.ips[6]], clusterCIDRs: [node.clusterCIDR[4], node.clusterCIDR[6]].filter((c): c is string => c !== null) };
}

/** Every address the service port answers on, from each kind of source. */
function probesFor(route: ServicePortRoute, graph: RoutingGraph): Probe[] {
  const frontends = [
    { kind: 'cluster-ip' as const, dst: route.clusterIP, port: route.port },
    ...[...route.externalIPs, ...route.loadBalancerIPs].map((dst) => ({ kind: 'external' as const, dst, port: route.port })),
    ...(route.nodePort !== null ? graph.node.ips[route.family].map((dst) => ({ kind: 'node-port' as const, dst, port: route.nodePort! })) : []),
  ];
  const sources = [
    { origin: 'pod' as const, src: podSource(graph, route.family) },
    { origin: 'node' as const, src: graph.node.ips[route.family][0] ?? null },
    { origin: 'outside' as const, src: OUTSIDE[route.family] },
  ];
  return frontends.flatMap((f) =>
    sources.filter((s) => s.src !== null).map((s) => ({ label: `${s.origin} ${s.src} -> ${f.dst}:${f.port}`, origin: s.origin, kind: f.kind, src: s.src!, dst: f.dst, port: f.port })),
  );
}

/** An address inside the cluster CIDR that is no endpoint (a pod that is a client only). */
function podSource(graph: RoutingGraph, family: IPFamily): string | null {
  const cidr = graph.node.clusterCIDR[family];
  if (!cidr) return null;
  const base = cidr.split('/')[0]!;
  return family === 4 ? base.replace(/\.0$/, '.250') : `${base.replace(/::$/, ':')}:fa`;
}

function comparable(e: Explanation, withService = true): object[] {
  return e.outcomes
    .map((o: Outcome) => ({ ...o, probability: Math.round(o.probability * 1e6) / 1e6 }))
    // nft element comments hold 128 characters: a longer service port name (unusual-names) is named by its Service there.
    .map(({ service, reason: _reason, ...rest }: Outcome & { reason?: string }) => (withService ? { ...rest, service: typeof service === 'string' ? fitComment(service) : service, ...(_reason === undefined ? {} : { reason: _reason }) } : rest))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** What the graph decided for cluster-IP traffic from a pod that is not an endpoint. */
function expectedInternal(route: ServicePortRoute, graph: RoutingGraph): object[] {
  if (route.internal.verdict) {
    return [{ kind: route.internal.verdict, probability: 1, share: '1', service: fitComment(route.servicePortName), reason: expect.any(String) }];
  }
  const endpoints = route.internal.target === 'local' ? route.localEndpoints : route.clusterEndpoints;
  const masquerade = route.internal.masquerade === 'all' || graph.node.masqueradeAll;
  return endpoints
    .map((ep) => ({ kind: 'backend', probability: Math.round((1 / endpoints.length) * 1e6) / 1e6, share: endpoints.length === 1 ? '1' : `1/${endpoints.length}`, service: fitComment(route.servicePortName), endpoint: ep.hostPort, masquerade }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
