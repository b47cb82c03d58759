import { describe, expect, it } from 'vitest';
import type { Inventory, Pod, Service } from '../../src/model/k8s.js';
import { resolveEndpoints } from '../../src/resolve/index.js';

const POD: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } },
  spec: { nodeName: 'node-a', containers: [] },
  status: { podIP: '10.244.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
};

function inventory(services: Service[]): Inventory {
  return { services, endpointSlices: [], endpoints: [], pods: [POD], nodes: [], serviceCIDRs: [] };
}

describe('resolveEndpoints: which Services take endpoints from Pods', () => {
  it('a selector Service does; an ExternalName one never does, selector or not, as the EndpointSlice controller skips it', () => {
    const web: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ port: 80 }] } };
    const ext: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com', selector: { app: 'web' }, ports: [{ port: 80 }] } };
    const resolved = resolveEndpoints(inventory([web, ext]), 'node-a');
    expect(resolved.get(web)!.source).toBe('Pods');
    expect(resolved.get(ext)!.source).toBe('none');
    expect(resolved.get(ext)!.subsets).toEqual([]);
  });
});
