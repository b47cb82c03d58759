import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile.js';
import { InputError } from '../../src/diagnostics/diagnostic.js';
import { SERVICE, SLICE, lineOf, problems, yamlDocs } from '../helpers/manifests.js';

/**
 * What a user reads: `FILE:LINE: KIND NAMESPACE/NAME: FIELD.PATH: what is
 * wrong`, one line per problem, every problem in one run.
 */

describe('diagnostic lines', () => {
  it('name the file, the line, the object and the field', () => {
    const text = yamlDocs(SLICE, SERVICE.replace('port: 80', 'port: 70000'));
    expect(problems({ 'shop.yaml': text }).lines).toEqual([`shop.yaml:${lineOf(text, '70000')}: Service shop/web: spec.ports[0].port: must be an integer from 1 to 65535; got 70000`]);
  });

  it('give a namespaced object without a namespace the namespace it gets, default', () => {
    const text = SERVICE.replace('  namespace: shop\n', '').replace('10.96.0.10', '10.96.0.1000');
    expect(problems({ 'a.yaml': text }).lines).toEqual(['a.yaml:6: Service default/web: spec.clusterIP: "10.96.0.1000" is not a valid IP address']);
  });

  it('name a Node by its name alone, and a configuration by its kind', () => {
    const node = 'apiVersion: v1\nkind: Node\nmetadata:\n  name: node-a\nstatus:\n  addresses: [{ type: InternalIP, address: 192.0.2.300 }]\n';
    const config = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs: { scheduler: fastest }\n';
    expect(problems({ 'n.yaml': node, 'c.yaml': config }).lines).toEqual([
      'n.yaml:6: Node node-a: status.addresses[0].address: "192.0.2.300" is not a valid IP address',
      'c.yaml:4: KubeProxyConfiguration: ipvs.scheduler: "fastest" is not an IPVS scheduler; use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh',
    ]);
  });

  it('quote a map key that is not a plain word in the field path', () => {
    const text = SERVICE.replace('  namespace: shop\n', '  namespace: shop\n  annotations:\n    "example.com/bad key": x\n');
    expect(problems({ 'a.yaml': text }).lines[0]).toMatch(/^a\.yaml:7: Service shop\/web: metadata\.annotations\["example\.com\/bad key"\]: annotation key "example\.com\/bad key" must be/);
  });

  it('say where the first copy of a duplicated object is', () => {
    const text = yamlDocs(SERVICE, SLICE, SERVICE.replace('10.96.0.10', '10.96.0.11'));
    const { lines } = problems({ 'a.yaml': text, 'b.yaml': SERVICE });
    expect(lines).toEqual([
      `a.yaml:${text.split('\n').lastIndexOf('  name: web') + 1}: Service shop/web: metadata.name: is defined twice (first at a.yaml:4); remove one copy`,
      'b.yaml:4: Service shop/web: metadata.name: is defined twice (first at a.yaml:4); remove one copy',
    ]);
  });

  it('list a repeat where it was read among the other problems, however many copies there are', () => {
    const other = SERVICE.replace('name: web', 'name: Other');
    const text = yamlDocs(SERVICE, other, SERVICE, other, SERVICE);
    const { lines } = problems({ 'a.yaml': text });
    expect(lines.map((line) => (line.includes('is defined twice (first at a.yaml:4)') ? 'repeat' : line.includes('"Other" must be') ? 'other' : line))).toEqual([
      'other',
      'repeat',
      'other',
      'repeat',
    ]);
  });

  it('count List items one by one', () => {
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'a' } })), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'b' } }] });
    expect(problems({ 'l.json': list }).checked).toBe(2);
  });
});

describe('every problem is reported', () => {
  it('three problems in one file are three lines', () => {
    const text = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  clusterIP: 10.96.0.300
  ports:
    - name: "ht tp"
      port: 80
    - name: admin
      port: 70000
`;
    const { errors, lines } = problems({ 'three.yaml': text });
    expect(errors.map((e) => [e.line, e.field])).toEqual([
      [12, 'spec.ports[1].port'],
      [7, 'spec.clusterIP'],
      [9, 'spec.ports[0].name'],
    ]);
    expect(lines).toHaveLength(3);
  });

  it('a wrongly shaped object still gets its other fields checked', () => {
    // The schema rejects `port`; the address and the name are checked all the same.
    const text = SERVICE.replace('port: 80', 'port: "80"').replace('10.96.0.10', '10.96.0.x').replace('name: http', 'name: HTTP');
    const { errors } = problems({ 'a.yaml': text });
    expect(errors.map((e) => e.field).sort()).toEqual(['spec.clusterIP', 'spec.ports[0].name', 'spec.ports[0].port']);
  });

  it('a field the schema rejects is not reported twice', () => {
    const text = SERVICE.replace('clusterIP: 10.96.0.10', 'clusterIP: 10').replace('name: web', 'name: 5');
    const { errors } = problems({ 'a.yaml': text });
    expect(errors.map((e) => `${e.field}: ${e.message}`)).toEqual(['metadata.name: must be a string, got number 5', 'spec.clusterIP: must be a string, got number 10']);
  });

  it('objects mangled beyond their schema are reported, never crash validation', () => {
    const mangled = [
      'apiVersion: v1\nkind: Service\n',
      'apiVersion: v1\nkind: Service\nmetadata: []\nspec: "x"\n',
      'apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec: { ports: "abc", clusterIPs: 3 }\n',
      'apiVersion: v1\nkind: Service\nmetadata: { name: web, labels: [a], annotations: "x" }\nspec: { ports: [7, null, { port: {} }], selector: [1] }\n',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s }\naddressType: IPv4\nendpoints: { a: 1 }\nports: 5\n',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s }\naddressType: IPv4\nendpoints: [{ addresses: "10.0.0.1", hints: [] }, null]\n',
      'apiVersion: v1\nkind: Endpoints\nmetadata: { name: e }\nsubsets: [{ addresses: [{ ip: 1 }], ports: {} }]\n',
      'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ ports: [{ name: 1 }] }] }\nstatus: { podIPs: "x" }\n',
      'apiVersion: v1\nkind: Node\nmetadata: { name: n }\nspec: { podCIDRs: "x" }\nstatus: { addresses: {} }\n',
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nnodePortAddresses: 1\nclusterCIDR: []\nipvs: 2\n',
    ];
    for (const text of mangled) {
      const { errors } = problems({ 'm.yaml': text });
      expect(errors.length, text).toBeGreaterThan(0);
      for (const e of errors) expect(e.line, `${text}: ${e.field}: ${e.message}`).not.toBeNull();
      expect(() => compileGraph([{ name: 'm.yaml', text }], {})).toThrow(InputError);
    }
  });

  it('a second KubeProxyConfiguration is an error, since either could win', () => {
    const config = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\n';
    expect(problems({ 'a.yaml': config, 'b.yaml': config }).lines).toEqual([
      "b.yaml:2: KubeProxyConfiguration: kind: is a second KubeProxyConfiguration (first at a.yaml:2); give kube-proxy's configuration once",
    ]);
  });

  it('lines stay right across many documents', () => {
    const docs = Array.from({ length: 40 }, (_, i) => SERVICE.replace('name: web', `name: web${i}`).replace('port: 80', `port: ${i % 3 === 0 ? 70000 + i : 80}`));
    const text = yamlDocs(...docs);
    const expected = text
      .split('\n')
      .map((line, i) => (/port: 7\d{4}$/.test(line) ? i + 1 : null))
      .filter((n) => n !== null);
    expect(problems({ 'many.yaml': text }).errors.map((e) => e.line)).toEqual(expected);
  });
});

describe('warnings do not fail validation', () => {
  it('an unknown kind is skipped with a warning', () => {
    const result = problems({ 'a.yaml': yamlDocs(SERVICE, 'apiVersion: v1\nkind: Secret\nmetadata: { name: s, namespace: shop }\n') });
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.message)).toEqual(['"Secret" is not a kind kpc reads; skipped']);
    expect(result.checked).toBe(2);
  });

  it('an EndpointSlice without the service-name label is ignored with a warning', () => {
    const result = problems({ 'a.yaml': SLICE.replace('  labels: { kubernetes.io/service-name: web }\n', '') });
    expect(result.errors).toEqual([]);
    expect(result.lines).toEqual(['warning: a.yaml:3: EndpointSlice shop/web-1: metadata.labels: has no kubernetes.io/service-name label, so it belongs to no Service and is ignored']);
  });

  it('a missing kind is an error, not a warning', () => {
    expect(problems({ 'a.yaml': 'apiVersion: v1\nmetadata: { name: x }\n' }).lines).toEqual(['a.yaml:1: object x: kind: is required']);
  });
});
