import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import { validateSources } from '../../src/compile.js';

const slice = (service: string) =>
  `---\n${JSON.stringify({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${service}-1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'] }], ports: [{ port: 8080 }] })}\n`;
const endpoints = (name: string) => `---\n${JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'shop' }, subsets: [{ addresses: [{ ip: '10.244.1.6' }], ports: [{ port: 8080 }] }] })}\n`;
const service = (name: string, port = 80) => `---\n${JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { clusterIP: '10.96.0.20', ports: [{ port }] } })}\n`;

describe('endpoints without their Service', () => {
  it('get a warning naming the missing Service, at the field that names it', () => {
    const { diagnostics } = validateSources([{ name: 'in.yaml', text: service('web') + slice('web') + slice('api') + endpoints('db') + endpoints('web') }]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      'warning: in.yaml:6: EndpointSlice shop/api-1: metadata.labels["kubernetes.io/service-name"]: Service shop/api is not in the input, so no rules use these endpoints; add the Service or leave this object out',
      'warning: in.yaml:8: Endpoints shop/db: metadata.name: Service shop/db is not in the input, so no rules use these endpoints; add the Service or leave this object out',
    ]);
  });

  it('are not reported when the input has errors (an invalid Service is not missing)', () => {
    const { diagnostics } = validateSources([{ name: 'in.yaml', text: service('web', 70000) + slice('web') }]);
    expect(diagnostics.map((d) => d.severity)).toEqual(['error']);
  });
});
