import { describe, expect, it } from 'vitest';
import { random } from '../helpers/random.js';
import { deployment, service, simulateText, type Simulated } from './helpers.js';

/** A generated input: Services of every type and Deployments, each a document of its own. */
function generate(seed: number): string[] {
  const next = random(seed);
  const docs: string[] = [];
  const count = 10 + Math.floor(next() * 30);
  for (let i = 0; i < count; i++) {
    const name = `s${seed}-${i}-${Math.floor(next() * 1e6).toString(36)}`;
    const type = ['ClusterIP', 'NodePort', 'LoadBalancer'][Math.floor(next() * 3)]!;
    const ports = [{ name: 'http', port: 80, targetPort: 'http' }, ...(next() < 0.3 ? [{ name: 'dns', port: 53, protocol: 'UDP' }] : [])];
    docs.push(service(name, { type, selector: { app: name }, ports, externalTrafficPolicy: type === 'ClusterIP' ? undefined : next() < 0.5 ? 'Local' : 'Cluster' }));
    if (next() < 0.7) docs.push(deployment(name, 1 + Math.floor(next() * 4), { app: name }));
  }
  return docs;
}

function shuffle<T>(items: T[], seed: number): T[] {
  const next = random(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const OPTIONS = { nodeName: 'node-a', simulate: { extraNodes: 3, loadBalancerPools: ['192.0.2.0/24'] } };

/** Every address and port a Service was given, as comparable text. */
function allocations(sim: Simulated): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, s] of sim.services) {
    out.set(key, [...(s.spec.clusterIPs ?? []), ...(s.spec.ports ?? []).map((p) => `:${p.nodePort}`), `:${s.spec.healthCheckNodePort}`, ...(s.status?.loadBalancer?.ingress ?? []).map((i) => `lb ${i.ip}`)]);
  }
  return out;
}

function placements(sim: Simulated): Map<string, string> {
  return new Map([...sim.pods].map(([key, pod]) => [key, `${pod.spec!.nodeName} ${pod.status!.podIP}`]));
}

/**
 * The others keep what they had, except where the one Service or workload
 * added (or removed) holds (or held) the very address or port they had (or
 * now have): the probe moves only what contends.
 */
function expectOthersKept(before: Map<string, string[] | string>, after: Map<string, string[] | string>, changed: string[], contended: Set<string>): void {
  for (const [key, old] of before) {
    if (changed.some((c) => key.startsWith(c))) continue;
    const now = after.get(key);
    if (JSON.stringify(now) === JSON.stringify(old)) continue;
    const moved = [old, now].flat().filter((v) => v !== undefined && contended.has(v.split(' ').pop()!));
    expect(moved, `${key}: ${JSON.stringify(old)} -> ${JSON.stringify(now)}`).not.toEqual([]);
  }
}

describe('stable allocation and placement (property)', () => {
  for (let seed = 1; seed <= 12; seed++) {
    it(`seed ${seed}: reordering changes nothing; adding or removing one Service or workload changes no other's addresses, ports, node or pod address`, () => {
      const docs = generate(seed);
      const base = simulateText(docs.join(''), OPTIONS);
      // Reordered: byte for byte the same objects.
      const shuffled = simulateText(shuffle(docs, seed + 1000).join(''), OPTIONS);
      expect(allocations(shuffled)).toEqual(allocations(base));
      expect(placements(shuffled)).toEqual(placements(base));
      // One more Service and Deployment.
      const extra = `extra-${seed}`;
      const added = simulateText(docs.join('') + service(extra, { type: 'NodePort', selector: { app: extra } }) + deployment(extra, 3, { app: extra }), OPTIONS);
      const addedValues = new Set([...allocations(added).get(`default/${extra}`)!.map((v) => v.split(' ').pop()!), ...[...placements(added)].filter(([k]) => k.startsWith(`default/${extra}-`)).map(([, v]) => v.split(' ')[1]!)]);
      expectOthersKept(allocations(base), allocations(added), [], addedValues);
      expectOthersKept(placements(base), placements(added), [`default/${extra}`], addedValues);
      for (const [key, where] of placements(base)) expect(placements(added).get(key)!.split(' ')[0]).toBe(where.split(' ')[0]);
      // One Service (and its Deployment) fewer.
      const victim = [...base.services.keys()][Math.floor(base.services.size / 2)]!;
      const name = victim.split('/')[1]!;
      const removed = simulateText(docs.filter((d) => !d.includes(`"name":"${name}"`)).join(''), OPTIONS);
      const removedValues = new Set([...allocations(base).get(victim)!.map((v) => v.split(' ').pop()!), ...[...placements(base)].filter(([k]) => k.startsWith(`${victim}-`)).map(([, v]) => v.split(' ')[1]!)]);
      const survivors = new Map([...allocations(base)].filter(([k]) => k !== victim));
      expectOthersKept(survivors, allocations(removed), [], removedValues);
      expectOthersKept(new Map([...placements(base)].filter(([k]) => !k.startsWith(`${victim}-`))), placements(removed), [], removedValues);
    });
  }
});
