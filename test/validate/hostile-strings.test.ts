import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile.js';
import { InputError, formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import { lineOf, problems } from '../helpers/manifests.js';

/**
 * Every user string that can reach a rule, a comment, a chain name or the
 * output's header must be refused by validation when it could bend a root-run
 * script: quotes, newlines, command substitution, comment starts, Unicode
 * line separators, overlong text. The refusal names the field and shows the
 * value escaped, on one line.
 */

const HOSTILE: Record<string, string> = {
  'double quote': 'we"b',
  newline: 'we\nb',
  'carriage return': 'we\rb',
  'command substitution': '$(reboot)',
  backticks: 'a`id`b',
  semicolon: 'a;b',
  hash: 'a#b',
  'line separator U+2028': 'a\u2028b',
  'paragraph separator U+2029': 'a\u2029b',
  'right-to-left override': 'a\u202eb',
  NUL: 'a\u0000b',
  space: 'a b',
  'crafted port name': 'p80" -j ACCEPT',
  'crafted rule': 'x\n-A INPUT -j ACCEPT',
  'very long': 'a'.repeat(100_000),
};

const service = () => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { note: 'ok' } as Record<string, string> },
  spec: { clusterIP: '10.96.0.10', selector: { app: 'web' } as Record<string, string>, ports: [{ name: 'http', port: 80, targetPort: 'http' as string | number }] },
});
const slice = () => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080 }],
  endpoints: [{ addresses: ['10.244.1.2'], nodeName: 'node-a', zone: 'zone-a', hostname: 'web-0', hints: { forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'node-a' }] } }],
});
const endpoints = () => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name: 'web', namespace: 'shop' },
  subsets: [{ addresses: [{ ip: '10.244.1.2', nodeName: 'node-a', hostname: 'web-0' }], ports: [{ name: 'http', port: 8080 }] }],
});
const pod = () => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'shop', labels: { app: 'web' } },
  spec: { nodeName: 'node-a', hostname: 'web-0', subdomain: 'web', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { podIP: '10.244.1.2', podIPs: [{ ip: '10.244.1.2' }] },
});
const node = () => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-a' } },
  status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }] },
});
const config = () => ({
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
  kind: 'KubeProxyConfiguration',
  hostnameOverride: 'node-a',
  clusterCIDR: '10.244.0.0/16',
  nodePortAddresses: ['192.0.2.0/24'],
  ipvs: { scheduler: 'rr' },
});

// Test objects are built to be broken: any field may be set to anything.
type Obj = Record<string, any>;

/** A field that reaches the output (or names it), how to set it, and the path diagnostics give. */
const FIELDS: { field: string; make: () => Obj; set: (o: Obj, v: string) => void }[] = [
  { field: 'Service metadata.name', make: service, set: (o, v) => (o.metadata.name = v) },
  { field: 'Service metadata.namespace', make: service, set: (o, v) => (o.metadata.namespace = v) },
  { field: 'Service spec.ports[0].name', make: service, set: (o, v) => (o.spec.ports[0].name = v) },
  { field: 'Service spec.ports[0].targetPort', make: service, set: (o, v) => (o.spec.ports[0].targetPort = v) },
  { field: 'Service metadata.annotations key', make: service, set: (o, v) => (o.metadata.annotations = { [v]: 'x' }) },
  { field: 'Service metadata.labels key', make: service, set: (o, v) => (o.metadata.labels = { [v]: 'x' }) },
  { field: 'Service metadata.labels value', make: service, set: (o, v) => (o.metadata.labels = { app: v }) },
  { field: 'Service spec.selector value', make: service, set: (o, v) => (o.spec.selector = { app: v }) },
  { field: 'Service spec.externalName', make: service, set: (o, v) => (o.spec = { type: 'ExternalName', externalName: v }) },
  { field: 'Service spec.externalIPs[0]', make: service, set: (o, v) => (o.spec.externalIPs = [v]) },
  { field: 'Service spec.loadBalancerSourceRanges[0]', make: service, set: (o, v) => Object.assign(o.spec, { type: 'LoadBalancer', loadBalancerSourceRanges: [v] }) },
  { field: 'Service status ingress ip', make: service, set: (o, v) => (o.status = { loadBalancer: { ingress: [{ ip: v }] } }) },
  { field: 'Service spec.topologyKeys[0]', make: service, set: (o, v) => (o.spec.topologyKeys = [v]) },
  { field: 'Service IPVS scheduler annotation', make: service, set: (o, v) => (o.metadata.annotations = { 'kpc.dev/ipvs-scheduler': v }) },
  { field: 'EndpointSlice metadata.name', make: slice, set: (o, v) => (o.metadata.name = v) },
  { field: 'EndpointSlice service-name label', make: slice, set: (o, v) => (o.metadata.labels['kubernetes.io/service-name'] = v) },
  { field: 'EndpointSlice endpoints[0].addresses[0]', make: slice, set: (o, v) => (o.endpoints[0].addresses = [v]) },
  { field: 'EndpointSlice endpoints[0].nodeName', make: slice, set: (o, v) => (o.endpoints[0].nodeName = v) },
  { field: 'EndpointSlice endpoints[0].zone', make: slice, set: (o, v) => (o.endpoints[0].zone = v) },
  { field: 'EndpointSlice endpoints[0].hostname', make: slice, set: (o, v) => (o.endpoints[0].hostname = v) },
  { field: 'EndpointSlice hints.forZones[0].name', make: slice, set: (o, v) => (o.endpoints[0].hints.forZones[0].name = v) },
  { field: 'EndpointSlice hints.forNodes[0].name', make: slice, set: (o, v) => (o.endpoints[0].hints.forNodes[0].name = v) },
  { field: 'EndpointSlice ports[0].name', make: slice, set: (o, v) => (o.ports[0].name = v) },
  { field: 'Endpoints address ip', make: endpoints, set: (o, v) => (o.subsets[0].addresses[0].ip = v) },
  { field: 'Endpoints address nodeName', make: endpoints, set: (o, v) => (o.subsets[0].addresses[0].nodeName = v) },
  { field: 'Endpoints address hostname', make: endpoints, set: (o, v) => (o.subsets[0].addresses[0].hostname = v) },
  { field: 'Endpoints ports[0].name', make: endpoints, set: (o, v) => (o.subsets[0].ports[0].name = v) },
  { field: 'Pod metadata.name', make: pod, set: (o, v) => (o.metadata.name = v) },
  { field: 'Pod spec.nodeName', make: pod, set: (o, v) => (o.spec.nodeName = v) },
  { field: 'Pod spec.hostname', make: pod, set: (o, v) => (o.spec.hostname = v) },
  { field: 'Pod container port name', make: pod, set: (o, v) => (o.spec.containers[0].ports[0].name = v) },
  { field: 'Pod status.podIP', make: pod, set: (o, v) => (o.status.podIP = v) },
  { field: 'Node metadata.name', make: node, set: (o, v) => (o.metadata.name = v) },
  { field: 'Node zone label', make: node, set: (o, v) => (o.metadata.labels['topology.kubernetes.io/zone'] = v) },
  { field: 'Node address', make: node, set: (o, v) => (o.status.addresses[0].address = v) },
  { field: 'KubeProxyConfiguration hostnameOverride', make: config, set: (o, v) => (o.hostnameOverride = v) },
  { field: 'KubeProxyConfiguration clusterCIDR', make: config, set: (o, v) => (o.clusterCIDR = v) },
  { field: 'KubeProxyConfiguration nodePortAddresses[0]', make: config, set: (o, v) => (o.nodePortAddresses = [v]) },
  { field: 'KubeProxyConfiguration ipvs.scheduler', make: config, set: (o, v) => (o.ipvs.scheduler = v) },
];

/** Characters that must never reach a terminal raw from a diagnostic. */
const RAW = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('hostile strings are refused by validation', () => {
  it('the unmodified objects are valid (so each refusal below is the hostile value)', () => {
    const texts = Object.fromEntries([service, slice, endpoints, pod, node, config].map((make, i) => [`${i}.json`, JSON.stringify(make())]));
    const result = problems(texts);
    expect(result.lines).toEqual([]);
  });

  for (const { field, make, set } of FIELDS) {
    it(`in ${field}`, () => {
      for (const [what, value] of Object.entries(HOSTILE)) {
        const object = make();
        set(object, value);
        const text = JSON.stringify(object, null, 2);
        const sources = [{ name: 'hostile.json', text }];
        const { errors, lines } = problems({ 'hostile.json': text });
        expect(errors.length, `${field} with ${what} was accepted`).toBeGreaterThan(0);
        for (const line of lines) {
          expect(line, `${field} with ${what}: ${JSON.stringify(line)}`).not.toMatch(RAW);
          expect(line.length, `${field} with ${what}: a line of ${line.length} characters`).toBeLessThan(800);
        }
        for (const error of errors) {
          expect(error.line, `${field} with ${what}: ${formatDiagnostic(error)}`).not.toBeNull();
          expect(error.field).not.toBeNull();
          expect(error.message).toMatch(/must|not|is required/);
        }
        expect(() => compileGraph(sources, {}), `${field} with ${what}`).toThrow(InputError);
      }
    });
  }

  it('shows the value escaped, so the user sees what is wrong', () => {
    const object = service();
    object.spec.ports[0]!.name = 'p80" -j ACCEPT';
    object.metadata.namespace = 'shop\u2028x';
    const text = JSON.stringify(object, null, 2);
    const { lines } = problems({ 's.json': text });
    expect(lines).toEqual([
      `s.json:${lineOf(text, '"namespace"')}: Service "shop\\u2028x/web": metadata.namespace: value "shop\\u2028x" must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit`,
      `s.json:${lineOf(text, 'p80')}: Service "shop\\u2028x/web": spec.ports[0].name: port name "p80\\" -j ACCEPT" must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit`,
    ]);
  });

  it('cuts a very long value short, saying how long it was', () => {
    const object = service();
    object.metadata.name = 'a'.repeat(100_000);
    const { lines } = problems({ 's.json': JSON.stringify(object) });
    expect(lines).toEqual([`s.json:1: Service "shop/${'a'.repeat(95)}"... (100005 characters): metadata.name: value "${'a'.repeat(100)}"... (100000 characters) must be at most 63 characters`]);
  });
});
