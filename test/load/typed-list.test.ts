import { describe, expect, it } from 'vitest';
import { compileGraph, validateSources } from '../../src/compile.js';

// As `kubectl get --raw /api/v1/services` prints it: the items carry no kind or apiVersion.
const SERVICE_LIST = JSON.stringify({
  kind: 'ServiceList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '1' },
  items: [{ metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.20', ports: [{ port: 80 }] } }],
});
const SLICE_LIST = JSON.stringify({
  kind: 'EndpointSliceList',
  apiVersion: 'discovery.k8s.io/v1',
  items: [
    {
      metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }],
      ports: [{ port: 8080 }],
    },
  ],
});

describe('typed lists', () => {
  it('read items without kind as the list kind without "List", with the list apiVersion', () => {
    expect(validateSources([{ name: 'svc.json', text: SERVICE_LIST }, { name: 'eps.json', text: SLICE_LIST }]).diagnostics).toEqual([]);
    const { graph } = compileGraph([{ name: 'svc.json', text: SERVICE_LIST }, { name: 'eps.json', text: SLICE_LIST }], {});
    expect(graph.servicePorts[0]!.clusterEndpoints.map((e) => e.ip)).toEqual(['10.244.1.5']);
  });

  it('leave a kind: List with items lacking kind as an error, and an item kind as given', () => {
    const list = JSON.stringify({ kind: 'List', apiVersion: 'v1', items: [{ metadata: { name: 'x' } }] });
    expect(validateSources([{ name: 'l.json', text: list }]).diagnostics.map((d) => `${d.field}: ${d.message}`)).toEqual(['kind: is required']);
    const mixed = JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', items: [{ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' } }] });
    expect(validateSources([{ name: 'm.json', text: mixed }]).diagnostics.map((d) => d.message)).toEqual(['"ConfigMap" is not a kind kpc reads; skipped']);
  });
});
