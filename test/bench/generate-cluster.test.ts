import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { generateCluster, type ClusterOptions } from '../../bench/generate-cluster.js';
import { compileGraph } from '../../src/compile.js';

// The benchmark's cluster generator (bench/generate-cluster.ts): its output
// must be input kpc accepts, and the same options must give the same bytes.
// No timing is asserted anywhere; `npm run bench` reports times.

function compile(options: ClusterOptions) {
  const cluster = generateCluster(options);
  const result = compileGraph([{ name: 'cluster.yaml', text: cluster.text }], {
    nodeName: cluster.node.name,
    nodeIPs: [cluster.node.ip],
    clusterCIDRs: [cluster.node.clusterCIDR],
  });
  return { cluster, result };
}

type Doc = { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> };

describe('bench cluster generator', () => {
  it('writes EndpointSlice clusters that kpc compiles without a problem', () => {
    const { cluster, result } = compile({ servicePorts: 300, endpointsPerPort: 4, seed: 3 });
    expect(result.warnings).toEqual([]);
    expect(result.graph.servicePorts).toHaveLength(300);
    expect(cluster.counts.servicePorts).toBe(300);
    expect(cluster.counts.endpoints).toBe(1200);
    expect(cluster.counts.endpointSlices).toBe(cluster.counts.services);
    expect(result.graph.servicePorts.every((p) => p.endpoints.length === 4)).toBe(true);
    // A mix of what real clusters hold.
    expect(cluster.counts.byType.ClusterIP).toBeGreaterThan(cluster.counts.byType.NodePort + cluster.counts.byType.LoadBalancer);
    expect(cluster.counts.byType.NodePort).toBeGreaterThan(0);
    expect(cluster.counts.byType.LoadBalancer).toBeGreaterThan(0);
    expect(cluster.counts.clientIPAffinity).toBeGreaterThan(0);
    expect(result.graph.servicePorts.some((p) => p.loadBalancerIPs.length > 0)).toBe(true);
    expect(result.graph.servicePorts.some((p) => p.affinityTimeoutSeconds !== null)).toBe(true);
  });

  it('writes Pod clusters (selectors, no slices) that kpc compiles without a problem', () => {
    const { cluster, result } = compile({ servicePorts: 150, endpointsPerPort: 3, endpointSource: 'pods', seed: 4 });
    expect(result.warnings).toEqual([]);
    expect(cluster.counts.endpointSlices).toBe(0);
    expect(cluster.counts.pods).toBe(cluster.counts.services * 3);
    expect(result.graph.servicePorts).toHaveLength(150);
    expect(result.graph.servicePorts.every((p) => p.endpoints.length === 3)).toBe(true);
    expect(result.graph.servicePorts.every((p) => p.notes.some((n) => n.includes('Pods')))).toBe(true);
  });

  it('writes packet-flow clusters whose endpoints are the given pods', () => {
    const pods = [
      { ip: '10.244.1.2', nodeName: 'node' },
      { ip: '10.244.2.2', nodeName: 'remote' },
    ];
    const { cluster, result } = compile({ servicePorts: 20, fixedEndpoints: pods, fixedTargetPort: 8080 });
    expect(result.warnings).toEqual([]);
    expect(cluster.counts.byType).toEqual({ ClusterIP: 20, NodePort: 0, LoadBalancer: 0 });
    for (const port of result.graph.servicePorts) {
      expect(port.endpoints.map((e) => e.hostPort)).toEqual(['10.244.1.2:8080', '10.244.2.2:8080']);
    }
    expect(cluster.services.map((s) => s.name)).toEqual([...cluster.services.map((s) => s.name)].sort());
  });

  it('writes the same cluster as kubectl JSON (a List), which kpc reads as the YAML', () => {
    const options = { servicePorts: 100, endpointsPerPort: 3, seed: 6 };
    const yaml = compile(options);
    const json = compile({ ...options, format: 'json' });
    expect(json.cluster.text.startsWith('{\n    "apiVersion": "v1",\n    "items": [')).toBe(true);
    expect(json.result.warnings).toEqual([]);
    expect(json.result.graph).toEqual(yaml.result.graph);
    expect(JSON.parse(json.cluster.text).items).toEqual(loadAll(yaml.cluster.text));
  });

  it('is deterministic: the same options give the same bytes, another seed another cluster', () => {
    const a = generateCluster({ servicePorts: 120, endpointsPerPort: 3, seed: 9 });
    const b = generateCluster({ servicePorts: 120, endpointsPerPort: 3, seed: 9 });
    const c = generateCluster({ servicePorts: 120, endpointsPerPort: 3, seed: 10 });
    expect(b.text).toBe(a.text);
    expect(b.counts).toEqual(a.counts);
    expect(c.text).not.toBe(a.text);
    const pods = (seed: number) => generateCluster({ servicePorts: 40, endpointsPerPort: 2, endpointSource: 'pods', seed }).text;
    expect(pods(5)).toBe(pods(5));
  });

  it('gives every Service a unique cluster IP in 10.96.0.0/12 and every node port once, in 30000-32767', () => {
    const { text } = generateCluster({ servicePorts: 2000, endpointsPerPort: 1, seed: 2 });
    const docs = loadAll(text) as Doc[];
    const services = docs.filter((d) => d.kind === 'Service');
    const ips = services.map((s) => s.spec!.clusterIP as string);
    expect(new Set(ips).size).toBe(ips.length);
    for (const ip of ips) {
      const [a, b] = ip.split('.').map(Number);
      expect(a === 10 && b! >= 96 && b! <= 111).toBe(true);
    }
    const nodePorts = services.flatMap((s) => [
      ...((s.spec!.ports as { nodePort?: number }[]).map((p) => p.nodePort).filter((p) => p !== undefined) as number[]),
      ...(s.spec!.healthCheckNodePort !== undefined ? [s.spec!.healthCheckNodePort as number] : []),
    ]);
    expect(nodePorts.length).toBeGreaterThan(0);
    expect(new Set(nodePorts).size).toBe(nodePorts.length);
    expect(nodePorts.every((p) => p >= 30000 && p <= 32767)).toBe(true);
  });

  it('stops handing out node ports before the range runs out', () => {
    // 30,000 service ports would want ~2,400 node ports: more Services fall back to ClusterIP than the range holds.
    const cluster = generateCluster({ servicePorts: 40000, endpointsPerPort: 0, seed: 1 });
    expect(cluster.counts.nodePorts).toBeLessThanOrEqual(2768);
    expect(cluster.counts.byType.ClusterIP).toBeGreaterThan(30000);
  });
});
