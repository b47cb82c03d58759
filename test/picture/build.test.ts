import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile.js';
import { buildPicture, type Picture } from '../../src/picture/index.js';
import { compileFixture, fixtureCases } from '../helpers/fixtures.js';

/** What the picture shows, checked on the boxes and arrows rather than on drawn text. */

const label = (p: Picture, id: string) => p.boxes.find((b) => b.id === id)!.lines[0];
const arrowsFrom = (p: Picture, first: string) => {
  const id = p.boxes.find((b) => b.lines[0] === first)!.id;
  return p.arrows.filter((a) => a.from === id).map((a) => ({ to: label(p, a.to), label: a.label, kind: a.kind, local: a.local }));
};

describe('routing graph picture', () => {
  it('draws frontends, policy arrows (cluster, local, short-circuit), refusals and endpoints by node', async () => {
    const graph = await compileFixture(fixtureCases().find((f) => f.name === 'external-traffic-local')!);
    const picture = buildPicture(graph);
    expect(picture.title).toBe('kpc routing graph for node node-a');
    expect(arrowsFrom(picture, 'default/here')).toEqual([
      { to: '10.244.1.2:80', label: 'internal, external from pods and this node', kind: 'internal', local: false },
      { to: '10.244.2.2:80', label: 'internal, external from pods and this node', kind: 'internal', local: false },
      { to: '10.244.1.2:80', label: 'external (local)', kind: 'external', local: true },
    ]);
    // No local endpoint: external traffic that is not short-circuited is dropped.
    expect(arrowsFrom(picture, 'default/elsewhere')).toContainEqual({ to: 'DROP', label: 'external', kind: 'refused', local: false });
    const groups = Object.fromEntries(picture.groups.map((g) => [g.label, picture.boxes.filter((b) => b.group === g.id).map((b) => b.lines[0]).sort()]));
    expect(groups).toEqual({ 'node node-a (this node)': ['10.244.1.2:80'], 'node node-b': ['10.244.2.2:80', '10.244.2.3:80'] });
  });

  it('shows source ranges, rejections, unused endpoints and services without rules', () => {
    const text = `apiVersion: v1
kind: Service
metadata: { name: lb, namespace: ns }
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.1
  ports: [{ port: 443, nodePort: 30443 }]
  loadBalancerSourceRanges: [203.0.113.0/24]
status: { loadBalancer: { ingress: [{ ip: 198.51.100.1 }] } }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: lb-1, namespace: ns, labels: { kubernetes.io/service-name: lb } }
addressType: IPv4
ports: [{ port: 8443, protocol: TCP }]
endpoints:
  - { addresses: [10.244.1.2], nodeName: a, conditions: { ready: false } }
  - { addresses: [10.244.2.2], nodeName: b }
---
apiVersion: v1
kind: Service
metadata: { name: empty, namespace: ns }
spec: { clusterIP: 10.96.0.2, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: db, namespace: ns }
spec: { clusterIP: None, ports: [{ port: 5432 }] }
`;
    const { graph } = compileGraph([{ name: 'in.yaml', text }], { nodeName: 'a', nodeIPs: ['192.0.2.10'] });
    const picture = buildPicture(graph);
    expect(arrowsFrom(picture, '198.51.100.1:443')).toEqual([
      { to: 'ns/lb', label: 'external, from 203.0.113.0/24 only', kind: 'frontend', local: false },
      { to: 'DROP', label: 'other sources', kind: 'refused', local: false },
    ]);
    expect(arrowsFrom(picture, 'ns/lb')).toEqual([{ to: '10.244.2.2:8443', label: 'internal, external', kind: 'internal', local: false }]);
    expect(arrowsFrom(picture, 'ns/empty')).toEqual([{ to: 'REJECT', label: 'internal', kind: 'refused', local: false }]);
    expect(picture.boxes.find((b) => b.lines[0] === '10.244.1.2:8443')!.lines[1]).toBe('not ready');
    expect(picture.boxes.find((b) => b.kind === 'skipped')!.lines).toEqual(['ns/db', 'headless (DNS only)']);
  });

  it('is the same picture whatever the input order', async () => {
    for (const fixture of fixtureCases()) {
      const graph = await compileFixture(fixture);
      expect(buildPicture(graph)).toEqual(buildPicture(structuredClone(graph)));
      // Every arrow joins two boxes that exist.
      const picture = buildPicture(graph);
      const ids = new Set(picture.boxes.map((b) => b.id));
      for (const arrow of picture.arrows) expect(ids.has(arrow.from) && ids.has(arrow.to), `${fixture.name} ${JSON.stringify(arrow)}`).toBe(true);
    }
  });
});
