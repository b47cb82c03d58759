import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileDns } from '../../src/compile.js';
import { endpointLabel, reverseName, srvWeight } from '../../src/dns/names.js';
import { formatZone } from '../../src/dns/index.js';
import { FIXTURES } from '../helpers/fixtures.js';

/** DNS records as CoreDNS's kubernetes plugin names and weighs them; the zone text itself is golden-tested. */

const zone = (text: string, clusterDomain = 'cluster.local') => compileDns([{ name: 'in.yaml', text }], { clusterDomain, ttl: 5 }).zone;
const records = (text: string) => zone(text).services.flatMap((s) => s.records.map((r) => `${r.name} ${r.type} ${r.data}`));

const HEADLESS = `apiVersion: v1
kind: Service
metadata: { name: db, namespace: ns }
spec: { clusterIP: None, selector: { app: db }, ports: [{ name: pg, port: 5432 }] }
`;

describe('dns names', () => {
  it('names endpoints as CoreDNS does: hostname, else the dashed address', () => {
    expect(endpointLabel('10.244.1.2', null)).toBe('10-244-1-2');
    expect(endpointLabel('10.244.1.2', 'db-0')).toBe('db-0');
    expect(endpointLabel('fd00::1', null)).toBe('fd00--1');
    // A trailing dash is no valid label end: CoreDNS appends a 0.
    expect(endpointLabel('fd00::', null)).toBe('fd00--0');
  });

  it('writes reverse names for both families', () => {
    expect(reverseName('10.96.0.10')).toBe('10.0.96.10.in-addr.arpa.');
    expect(reverseName('fd00:10:96::a')).toBe('a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa.');
  });

  it('weighs SRV records 100/n, at least 1', () => {
    expect([1, 2, 3, 200].map(srvWeight)).toEqual([100, 50, 33, 1]);
  });
});

describe('dns records', () => {
  it('headless endpoints from EndpointSlices, Endpoints and Pods give the same records', () => {
    const slice = `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: db-1, namespace: ns, labels: { kubernetes.io/service-name: db } }
addressType: IPv4
ports: [{ name: pg, port: 5432, protocol: TCP }]
endpoints: [{ addresses: [10.244.1.2], hostname: db-0 }]
`;
    const endpoints = `---
apiVersion: v1
kind: Endpoints
metadata: { name: db, namespace: ns }
subsets: [{ addresses: [{ ip: 10.244.1.2, hostname: db-0 }], ports: [{ name: pg, port: 5432 }] }]
`;
    const pod = `---
apiVersion: v1
kind: Pod
metadata: { name: db-0, namespace: ns, labels: { app: db } }
spec: { hostname: db-0, subdomain: db, containers: [{ name: pg }] }
status: { phase: Running, podIP: 10.244.1.2, conditions: [{ type: Ready, status: "True" }] }
`;
    const expected = [
      'db.ns.svc.cluster.local. A 10.244.1.2',
      '_pg._tcp.db.ns.svc.cluster.local. SRV 0 100 5432 db-0.db.ns.svc.cluster.local.',
      'db-0.db.ns.svc.cluster.local. A 10.244.1.2',
    ];
    for (const source of [slice, endpoints, pod]) expect(records(HEADLESS + source)).toEqual(expected);
  });

  it('uses the cluster domain given and serves nothing for a Service without a cluster IP yet', () => {
    const text = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: ns }
spec: { clusterIP: 10.96.0.1, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: pending, namespace: ns }
spec: { ports: [{ port: 80 }] }
`;
    const z = zone(text, 'corp.example');
    expect(z.services.map((s) => s.records.map((r) => r.name))).toEqual([[], ['web.ns.svc.corp.example.', 'web.ns.svc.corp.example.']]);
    expect(z.services[0]!.note).toMatch(/no cluster IP allocated yet/);
    expect(z.reverse.map((r) => `${r.name} ${r.data}`)).toEqual(['1.0.96.10.in-addr.arpa. web.ns.svc.corp.example.']);
  });

  it('is the same zone whatever the order of the objects', () => {
    const text = readFileSync(join(FIXTURES, 'dns-records', 'input.yaml'), 'utf8');
    const documents = text.split(/^---$/m);
    const reversed = documents.reverse().join('---\n');
    const render = (t: string) => formatZone(compileDns([{ name: 'in.yaml', text: t }], { clusterDomain: 'cluster.local', ttl: 5 }).zone);
    expect(render(reversed)).toBe(render(text));
  });
});
