import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile.js';
import { SERVICE, lineOf, problems } from '../helpers/manifests.js';

/** What a user reads when a scalar means something else to kubectl than it seems to (test/load/kubectl-scalars.test.ts has the reading itself). */
describe('scalars as kubectl reads them, in messages', () => {
  it.each([
    ['80.0', 'must be an integer, got 80.0, which is a float; write 80'],
    ['1e3', 'must be an integer, got 1e3, which is a float; write 1000'],
    ['.inf', 'must be an integer, got .inf, which is a float'],
    ['80.5', 'must be an integer, got 80.5, which is a float'],
    ['1e400', 'must be an integer, got string "1e400"'],
  ])('refuse port: %s, saying what was written', (port, message) => {
    const text = SERVICE.replace('port: 80', `port: ${port}`);
    expect(problems({ 'a.yaml': text }).lines).toEqual([`a.yaml:${lineOf(text, `port: ${port}`)}: Service shop/web: spec.ports[0].port: ${message}`]);
  });

  it('refuse a JSON port written as a float or beyond a double, with its line', () => {
    const json = (port: string) => `{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": { "name": "web", "namespace": "shop" },\n  "spec": {\n    "clusterIP": "10.96.0.10",\n    "ports": [{ "port": ${port} }]\n  }\n}\n`;
    expect(problems({ 'a.json': json('80.0') }).lines).toEqual(['a.json:7: Service shop/web: spec.ports[0].port: must be an integer, got 80.0, which is a float; write 80']);
    expect(problems({ 'a.json': json('1e400') }).lines).toEqual(['a.json:7: Service shop/web: spec.ports[0].port: must be an integer, got 1e400, which is a float']);
  });

  it('accept a date as an annotation value: kubectl sends it as the text written', () => {
    const text = SERVICE.replace('  namespace: shop\n', '  namespace: shop\n  annotations:\n    deployed: 2024-01-01\n    at: 2024-01-01T10:00:00Z\n');
    expect(problems({ 'a.yaml': text }).lines).toEqual([]);
  });

  it('refuse a label value of yes, which kubectl sends as the boolean true', () => {
    const text = SERVICE.replace('  namespace: shop\n', '  namespace: shop\n  labels:\n    enabled: yes\n');
    expect(problems({ 'a.yaml': text }).lines).toEqual([`a.yaml:${lineOf(text, 'enabled: yes')}: Service shop/web: metadata.labels.enabled: must be a string, got boolean true`]);
  });

  it('ask for quotes around a float where a string belongs', () => {
    const text = SERVICE.replace('  namespace: shop\n', '  namespace: shop\n  labels:\n    version: 1.10\n');
    expect(problems({ 'a.yaml': text }).lines).toEqual([`a.yaml:${lineOf(text, 'version: 1.10')}: Service shop/web: metadata.labels.version: must be a string, got 1.10, which is a float; quote it ("1.10") for a string`]);
  });

  it('compile port: 0120 as port 80, as kubectl sends it', () => {
    const text = SERVICE.replace('port: 80', 'port: 0120');
    const graph = compileGraph([{ name: 'a.yaml', text }], { nodeName: 'node-a', nodeIPs: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] });
    expect(JSON.stringify(graph)).toContain('"port":80');
    expect(JSON.stringify(graph)).not.toContain('"port":120');
  });
});
