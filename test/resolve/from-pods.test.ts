import { describe, expect, it } from 'vitest';
import type { Pod, Service } from '../../src/model/k8s.js';
import { endpointsFromPods } from '../../src/resolve/from-pods.js';

type ContainerPort = NonNullable<NonNullable<NonNullable<Pod['spec']>['containers']>[number]['ports']>[number];

const CONTEXT = { localNode: 'node-a', nodeZones: new Map<string, string>() };

function pod(containers: { name: string; ports: ContainerPort[] }[]): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'wide-0', namespace: 'default', labels: { app: 'wide' } },
    spec: { nodeName: 'node-a', containers },
    status: { podIP: '10.244.1.5', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function service(ports: { name: string; port: number; targetPort: string | number; protocol?: 'TCP' | 'UDP' }[]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'wide', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', selector: { app: 'wide' }, ports } } as Service;
}

/**
 * One Service of n ports, each with a named targetPort, and one Pod with n
 * named container ports whose every read of an entry is counted: a counter,
 * not a clock.
 */
function wide(n: number): { service: Service; pod: Pod; reads: () => number } {
  let reads = 0;
  const entries: ContainerPort[] = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, containerPort: 10000 + i, protocol: 'TCP' }));
  const counted = new Proxy(entries, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  const ports = Array.from({ length: n }, (_, i) => ({ name: `p${i}`, port: 1 + i, targetPort: `c${i}` }));
  return { service: service(ports), pod: pod([{ name: 'app', ports: counted }]), reads: () => reads };
}

describe('endpointsFromPods: named target ports', () => {
  // A Service of 80,000 such ports took 12 s here (40,000: 2.9 s): every port scanned every container port.
  it('reads each container port a bounded number of times, however many service ports name one', () => {
    for (const n of [500, 2000]) {
      const { service: svc, pod: member, reads } = wide(n);
      const endpoints = endpointsFromPods(svc, [member], CONTEXT);
      expect(endpoints.byPort.get(`p${n - 1}/TCP`)?.[4].map((e) => e.port)).toEqual([10000 + n - 1]);
      // The DNS view resolves the same names again.
      expect(endpoints.subsets[0]?.ports).toHaveLength(n);
      expect(reads()).toBeLessThanOrEqual(2 * n);
    }
  });

  it('resolves a name as the EndpointSlice controller does: the first container port of that name and protocol, across containers', () => {
    const member = pod([
      { name: 'a', ports: [{ name: 'web', containerPort: 8080, protocol: 'UDP' }, { name: 'other', containerPort: 9000 }] },
      { name: 'b', ports: [{ name: 'web', containerPort: 8081 }, { name: 'web', containerPort: 8082 }] },
      { name: 'c', ports: [{ name: 'web', containerPort: 8083, protocol: 'UDP' }] },
    ]);
    const svc = service([
      { name: 'tcp', port: 80, targetPort: 'web' },
      { name: 'udp', port: 80, targetPort: 'web', protocol: 'UDP' },
      { name: 'missing', port: 81, targetPort: 'nope' },
      { name: 'number', port: 82, targetPort: 7000 },
    ]);
    const endpoints = endpointsFromPods(svc, [member], CONTEXT);
    const port = (key: string) => endpoints.byPort.get(key)?.[4].map((e) => e.port);
    expect(port('tcp/TCP')).toEqual([8081]);
    expect(port('udp/UDP')).toEqual([8080]);
    expect(port('missing/TCP')).toBeUndefined();
    expect(port('number/TCP')).toEqual([7000]);
    expect(endpoints.subsets[0]?.ports).toEqual([
      { name: 'tcp', protocol: 'TCP', port: 8081 },
      { name: 'udp', protocol: 'UDP', port: 8080 },
      { name: 'number', protocol: 'TCP', port: 7000 },
    ]);
  });
});

/** A ready pod of `app: web` with a name, addresses and node; `extra` is merged into it. */
function member(name: string, ips: string[], extra: { ready?: boolean; deleting?: boolean; node?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'web' }, ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: extra.node ?? 'node-b', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })), conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }] },
  };
}

function web(spec: Partial<Service['spec']> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec } };
}

describe('endpointsFromPods: the EndpointSlice controller\'s rules (what kpc simulate writes as slices)', () => {
  it('serving is the pod\'s Ready condition even with publishNotReadyAddresses, which makes it ready', () => {
    const [ep] = endpointsFromPods(web({ publishNotReadyAddresses: true }), [member('a', ['10.244.1.2'], { ready: false })], CONTEXT).byPort.get('http/TCP')![4];
    expect(ep).toMatchObject({ ready: true, serving: false, terminating: false });
  });

  it('keeps only the addresses of the Service\'s families (ipFamilies, else its cluster IP\'s, else both for headless)', () => {
    const pods = [member('a', ['10.244.1.2', 'fd00::2'])];
    const single = endpointsFromPods(web(), pods, CONTEXT);
    expect(single.byPort.get('http/TCP')![6]).toEqual([]);
    expect(single.subsets.flatMap((s) => s.addresses.map((a) => a.ip))).toEqual(['10.244.1.2']);
    const legacy = endpointsFromPods(web({ ipFamilies: undefined, clusterIP: 'fd00:96::10' }), pods, CONTEXT);
    expect(legacy.subsets.flatMap((s) => s.addresses.map((a) => a.ip))).toEqual(['fd00::2']);
    const headless = endpointsFromPods(web({ ipFamilies: undefined, clusterIP: 'None' }), pods, CONTEXT);
    expect(headless.subsets.flatMap((s) => s.addresses.map((a) => a.ip)).sort()).toEqual(['10.244.1.2', 'fd00::2']);
  });

  it('hints for trafficDistribution only ready endpoints, as the controller writes them', () => {
    const context = { localNode: 'node-a', nodeZones: new Map([['node-b', 'zone-b']]) };
    const pods = [member('a', ['10.244.1.2']), member('b', ['10.244.1.3'], { deleting: true })];
    const [ready, terminating] = endpointsFromPods(web({ trafficDistribution: 'PreferSameNode' }), pods, context).byPort.get('http/TCP')![4];
    expect(ready).toMatchObject({ ip: '10.244.1.2', zoneHints: ['zone-b'], nodeHints: ['node-b'] });
    expect(terminating).toMatchObject({ ip: '10.244.1.3', ready: false, terminating: true, zoneHints: [], nodeHints: [] });
  });

  it('groups endpoints for DNS as the controller fills slices: at most 100 each, in pod order', () => {
    const pods = Array.from({ length: 250 }, (_, i) => member(`p${String(i).padStart(3, '0')}`, [`10.244.${Math.floor(i / 200)}.${(i % 200) + 2}`]));
    const subsets = endpointsFromPods(web(), pods, CONTEXT).subsets;
    expect(subsets.map((s) => s.addresses.length)).toEqual([100, 100, 50]);
    expect(subsets[2]!.addresses[0]!.ip).toBe('10.244.1.2');
  });
});
