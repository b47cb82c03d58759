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
