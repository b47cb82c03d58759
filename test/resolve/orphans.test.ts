import { describe, expect, it } from 'vitest';
import { compileDns, compileGraph } from '../../src/compile.js';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import { lineOf, problems, SERVICE, SLICE, yamlDocs } from '../helpers/manifests.js';

/**
 * An EndpointSlice or Endpoints object whose Service is not in the input
 * gives no rule: kube-proxy would keep its endpoints until the Service comes,
 * kpc cannot program them at all. That must not pass in silence (two slice
 * dumps of a failover once compared as "same"): every command that reads
 * manifests warns, at the object's line, naming the Service it lacks.
 */

const ENDPOINTS = `apiVersion: v1
kind: Endpoints
metadata:
  name: db
  namespace: shop
subsets:
  - addresses: [{ ip: 10.244.1.7 }]
    ports: [{ port: 5432 }]
`;

const ORPHAN_SLICE = SLICE.replace('name: web-1', 'name: cache-abc').replace('service-name: web', 'service-name: cache');

describe('endpoints whose Service is not in the input', () => {
  it('are warned about at the line that names the Service, by validate, generate and dns', () => {
    const text = yamlDocs(SERVICE, SLICE, ORPHAN_SLICE, ENDPOINTS);
    const expected = [
      `warning: in.yaml:${lineOf(text, 'service-name: cache')}: EndpointSlice shop/cache-abc: metadata.labels["kubernetes.io/service-name"]: its Service shop/cache is not in the input, so no rule uses its endpoints; give the Service's manifest too`,
      `warning: in.yaml:${lineOf(text, 'name: db')}: Endpoints shop/db: metadata.name: its Service shop/db is not in the input, so no rule uses its endpoints; give the Service's manifest too`,
    ];
    expect(problems({ 'in.yaml': text }).lines).toEqual(expected);
    const sources = [{ name: 'in.yaml', text }];
    expect(compileGraph(sources, { nodeName: 'node-a' }).warnings.map(formatDiagnostic)).toEqual(expected);
    expect(compileDns(sources, { clusterDomain: 'cluster.local', ttl: 5 }).warnings.map(formatDiagnostic)).toEqual(expected);
  });

  it('are not warned about when their Service is there, in any namespace spelling', () => {
    const defaulted = yamlDocs(SERVICE.replace('  namespace: shop\n', ''), SLICE.replace('  namespace: shop\n', ''), ENDPOINTS.replace('name: db', 'name: web').replace('  namespace: shop\n', ''));
    expect(problems({ 'in.yaml': defaulted }).lines).toEqual([]);
    expect(problems({ 'in.yaml': yamlDocs(SERVICE, SLICE) }).lines).toEqual([]);
  });

  it('in another namespace is a different Service', () => {
    const other = SLICE.replace('namespace: shop', 'namespace: other');
    expect(problems({ 'in.yaml': yamlDocs(SERVICE, other) }).lines).toEqual([expect.stringMatching(/EndpointSlice other\/web-1: .*its Service other\/web is not in the input/)]);
  });
});

describe('a Service that is in the input but invalid', () => {
  it('is not reported missing: its own error says what is wrong', () => {
    const text = yamlDocs(SLICE, SERVICE.replace('port: 80', 'port: 70000'));
    expect(problems({ 'in.yaml': text }).lines).toEqual([expect.stringMatching(/Service shop\/web: spec\.ports\[0\]\.port: must be an integer/)]);
  });
});
