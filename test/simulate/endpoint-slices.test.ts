import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Endpoints, Inventory, Node, Pod, Service } from '../../src/model/k8s.js';
import { endpointSlicesFor } from '../../src/simulate/endpoint-slices.js';
import { simulateSources } from '../../src/compile.js';

type Container = NonNullable<NonNullable<Pod['spec']>['containers']>[number];

const HTTP: Container = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };

function pod(name: string, ips: string[], options: { ready?: boolean; deleting?: boolean; node?: string; containers?: Container[]; labels?: Record<string, string>; hostname?: string; subdomain?: string } = {}): Pod {
  const spec: NonNullable<Pod['spec']> = { nodeName: options.node ?? 'node-a', containers: options.containers ?? [HTTP] };
  if (options.hostname) spec.hostname = options.hostname;
  if (options.subdomain) spec.subdomain = options.subdomain;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: options.labels ?? { app: 'web' }, ...(options.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec,
    status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })), conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] },
  };
}

function service(spec: Partial<Service['spec']> = {}, name = 'web', labels?: Record<string, string>): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
    spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec },
  };
}

function node(name: string, zone?: string): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} } };
}

function slices(parts: Partial<Inventory>): EndpointSlice[] {
  return endpointSlicesFor({ services: [], endpointSlices: [], endpoints: [], pods: [], nodes: [], serviceCIDRs: [], ...parts });
}

const addresses = (slice: EndpointSlice) => (slice.endpoints ?? []).map((e) => e.addresses[0]);

describe('endpointSlicesFor: the EndpointSlice controller\'s slices', () => {
  it('writes one slice with the controller\'s labels, owner, generateName and a stable name; endpoints carry conditions, targetRef, nodeName and zone', () => {
    const [slice, ...rest] = slices({ services: [service({}, 'web', { team: 'a' })], pods: [pod('web-1', ['10.244.0.5'])], nodes: [node('node-a', 'zone-a')] });
    expect(rest).toEqual([]);
    expect(slice!.metadata).toEqual({
      name: expect.stringMatching(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/),
      generateName: 'web-',
      namespace: 'default',
      labels: { team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', controller: true, blockOwnerDeletion: true }],
    });
    expect(slice!.addressType).toBe('IPv4');
    expect(slice!.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);
    expect(slice!.endpoints).toEqual([
      {
        addresses: ['10.244.0.5'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1' },
        nodeName: 'node-a',
        zone: 'zone-a',
      },
    ]);
    // The same name whatever else is in the input.
    const again = slices({ services: [service({}, 'web', { team: 'a' }), service({}, 'other')], pods: [pod('web-1', ['10.244.0.5']), pod('web-2', ['10.244.0.6'])] });
    expect(again.find((s) => s.metadata.labels!['kubernetes.io/service-name'] === 'web')!.metadata.name).toBe(slice!.metadata.name);
  });

  it('resolves a named targetPort per pod: pods whose numbers differ, or that lack the port, go to slices with their own port list', () => {
    const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'admin', port: 9000, targetPort: 9000 }] });
    const pods = [
      pod('a', ['10.244.0.2']),
      pod('b', ['10.244.0.3'], { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8081 }] }] }),
      pod('c', ['10.244.0.4'], { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] }] }),
      pod('d', ['10.244.0.5']),
    ];
    const byPorts = new Map(slices({ services: [svc], pods }).map((s) => [JSON.stringify(s.ports), addresses(s)]));
    expect(byPorts).toEqual(
      new Map([
        [JSON.stringify([{ name: 'http', protocol: 'TCP', port: 8080 }, { name: 'admin', protocol: 'TCP', port: 9000 }]), ['10.244.0.2', '10.244.0.5']],
        [JSON.stringify([{ name: 'http', protocol: 'TCP', port: 8081 }, { name: 'admin', protocol: 'TCP', port: 9000 }]), ['10.244.0.3']],
        // A UDP container port does not resolve a TCP service port's name.
        [JSON.stringify([{ name: 'admin', protocol: 'TCP', port: 9000 }]), ['10.244.0.4']],
      ]),
    );
  });

  it('puts at most 100 endpoints in a slice, filling them in pod name order, each slice named apart', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(`web-${String(i).padStart(3, '0')}`, [`10.244.${Math.floor(i / 200)}.${(i % 200) + 2}`]));
    const made = slices({ services: [service()], pods: [...pods].reverse() });
    expect(made.map((s) => s.endpoints!.length).sort()).toEqual([100, 100, 50]);
    expect(new Set(made.map((s) => s.metadata.name)).size).toBe(3);
    const all = made.flatMap((s) => (s.endpoints ?? []).map((e) => e.targetRef!.name)).sort();
    expect(all).toEqual(pods.map((p) => p.metadata.name));
    const first = made.find((s) => s.endpoints![0]!.targetRef!.name === 'web-000')!;
    expect(first.endpoints!.map((e) => e.targetRef!.name)).toEqual(pods.slice(0, 100).map((p) => p.metadata.name));
  });

  it('writes a slice set per address family of the Service; a family no pod has gets the empty placeholder', () => {
    const dual = service({ clusterIPs: ['10.96.0.10', 'fd00:96::10'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
    const made = slices({ services: [dual], pods: [pod('a', ['10.244.0.2', 'fd00:244::2']), pod('b', ['10.244.0.3'])] });
    expect(made.map((s) => [s.addressType, addresses(s)]).sort()).toEqual([
      ['IPv4', ['10.244.0.2', '10.244.0.3']],
      ['IPv6', ['fd00:244::2']],
    ]);
    const single = slices({ services: [service()], pods: [pod('a', ['10.244.0.2', 'fd00:244::2'])] });
    expect(single.map((s) => s.addressType)).toEqual(['IPv4']);
    const v6only = slices({ services: [dual], pods: [pod('b', ['10.244.0.3'])] });
    expect(v6only.map((s) => [s.addressType, s.ports, s.endpoints]).sort()).toEqual([
      ['IPv4', [{ name: 'http', protocol: 'TCP', port: 8080 }], expect.any(Array)],
      ['IPv6', [], []],
    ]);
  });

  it('keeps a terminating pod as not ready, still serving, terminating; terminal pods and pods without an address are left out', () => {
    const pods = [
      pod('gone', ['10.244.0.2'], { deleting: true }),
      { ...pod('done', ['10.244.0.3']), status: { phase: 'Succeeded', podIP: '10.244.0.3' } },
      { ...pod('pending', []), status: {} },
    ];
    const [slice] = slices({ services: [service()], pods });
    expect(slice!.endpoints).toHaveLength(1);
    expect(slice!.endpoints![0]!.conditions).toEqual({ ready: false, serving: true, terminating: true });
  });

  it('honours publishNotReadyAddresses: a not-ready pod is ready (and not serving), a terminating one ready too', () => {
    const [slice] = slices({ services: [service({ publishNotReadyAddresses: true })], pods: [pod('a', ['10.244.0.2'], { ready: false }), pod('b', ['10.244.0.3'], { deleting: true })] });
    expect(slice!.endpoints!.map((e) => e.conditions)).toEqual([
      { ready: true, serving: false, terminating: false },
      { ready: true, serving: true, terminating: true },
    ]);
  });

  it('writes one empty placeholder per family for a Service no pod matches, with no ports (as the controller does, not the Service\'s)', () => {
    const made = slices({ services: [service()], pods: [pod('other', ['10.244.0.2'], { labels: { app: 'other' } })] });
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ addressType: 'IPv4', endpoints: [], ports: [] });
    // A headless Service without ipFamilies is taken as both families, as the controller takes it, and labelled headless.
    const headless = slices({ services: [service({ clusterIP: 'None', clusterIPs: ['None'], ipFamilies: undefined })] });
    expect(headless.map((s) => s.addressType).sort()).toEqual(['IPv4', 'IPv6']);
    expect(headless[0]!.metadata.labels!['service.kubernetes.io/headless']).toBe('');
  });

  it('writes none for ExternalName, selector-less and empty-selector Services, nor for one the input gives EndpointSlices or Endpoints', () => {
    const given: EndpointSlice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'sliced-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'sliced' } }, addressType: 'IPv4', endpoints: [] };
    const endpoints: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: 'default' }, subsets: [] };
    const made = slices({
      services: [
        service({ type: 'ExternalName', externalName: 'example.com', clusterIP: undefined, clusterIPs: undefined }, 'ext'),
        service({ selector: undefined }, 'bare'),
        service({ selector: {} }, 'empty'),
        service({}, 'sliced'),
        service({}, 'manual'),
      ],
      endpointSlices: [given],
      endpoints: [endpoints],
      pods: [pod('a', ['10.244.0.2'])],
    });
    expect(made).toEqual([]);
  });

  it('names endpoints by the pod\'s hostname when its subdomain is the Service, hints ready ones for trafficDistribution, and cuts a long generateName to 58', () => {
    const long = 'a'.repeat(63);
    const svc = service({ trafficDistribution: 'PreferClose' }, long);
    const pods = [pod('db-0', ['10.244.0.2'], { hostname: 'db-0', subdomain: long }), pod('db-1', ['10.244.0.3'], { deleting: true, hostname: 'db-1', subdomain: 'other' })];
    const [slice] = slices({ services: [svc], pods, nodes: [node('node-a', 'zone-a')] });
    expect(slice!.metadata.generateName).toBe('a'.repeat(58));
    expect(slice!.metadata.name).toHaveLength(63);
    expect(slice!.endpoints![0]).toMatchObject({ hostname: 'db-0', hints: { forZones: [{ name: 'zone-a' }] } });
    expect(slice!.endpoints![1]!.hostname).toBeUndefined();
    expect(slice!.endpoints![1]!.hints).toBeUndefined();
  });
});

describe('kpc simulate prints the slices', () => {
  it('for a workload behind a Service, marked simulated, and reads them back to the same slices', () => {
    const text = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 3, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [HTTP] } } } },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n---\n');
    const { objects } = simulateSources([{ name: 'in.yaml', text }], { simulate: {}, nodeName: 'node-a' });
    const printed = (objects as { kind: string }[]).filter((o): o is EndpointSlice => o.kind === 'EndpointSlice');
    expect(printed).toHaveLength(1);
    expect(printed[0]!.endpoints).toHaveLength(3);
    expect(printed[0]!.metadata.annotations).toEqual({ 'kpc.dev/simulated': 'true' });
    const again = simulateSources([{ name: 'out.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) }], { simulate: {}, nodeName: 'node-a' });
    expect((again.objects as { kind: string }[]).filter((o) => o.kind === 'EndpointSlice')).toEqual(printed);
  });
});
