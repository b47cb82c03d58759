import { describe, expect, it } from 'vitest';
import { compileGraph, emit } from '../../src/compile.js';
import { explainPacket, type Packet } from '../../src/explain/index.js';
import { yamlDocs } from '../helpers/manifests.js';

/**
 * A Service with n endpoints splits new connections 1/n each: kube-proxy's
 * iptables chain takes 1/n, then 1/(n-1) of the rest, ... (written with ten
 * decimals), nftables picks `numgen random mod n`. The trace must add these
 * up exactly: every endpoint gets exactly 1/n, the shares sum to exactly 1,
 * and no path is left over for a "no such service port" REJECT. Floating
 * point did leave one over in nftables for 6, 7 and 10 endpoints.
 */

const NODE = { ips: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] };
const POD_TO_WEB: Packet = { family: 4, src: '10.244.9.9', dst: '10.96.0.10', dport: 80, protocol: 'tcp' };

function manifests(n: number): string {
  const service = 'apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: shop }\nspec:\n  clusterIP: 10.96.0.10\n  ports: [{ name: http, port: 80, targetPort: 8080 }]\n';
  const endpoints = Array.from({ length: n }, (_, i) => `  - addresses: [10.244.${1 + Math.floor(i / 200)}.${2 + (i % 200)}]\n    conditions: { ready: true }\n`).join('');
  const slice = `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-1\n  namespace: shop\n  labels: { kubernetes.io/service-name: web }\naddressType: IPv4\nports: [{ name: http, port: 8080, protocol: TCP }]\nendpoints:\n${endpoints}`;
  return yamlDocs(service, slice);
}

function rules(n: number, mode: 'iptables' | 'nftables'): string {
  const { graph } = compileGraph([{ name: `web-${n}.yaml`, text: manifests(n) }], { nodeName: 'node-a', nodeIPs: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] });
  return emit(graph, { mode, family: 4 });
}

describe('endpoint shares are exact', () => {
  for (const mode of ['iptables', 'nftables'] as const) {
    it(`${mode}: every endpoint count from 1 to 64 gives each endpoint exactly 1/n and nothing else`, () => {
      for (let n = 1; n <= 64; n++) {
        const e = explainPacket(rules(n, mode), mode, POD_TO_WEB, NODE);
        expect(e.warnings, `${n} endpoints`).toEqual([]);
        expect(e.outcomes.map((o) => o.kind), `${n} endpoints`).toEqual(Array(n).fill('backend'));
        const each = n === 1 ? '1' : `1/${n}`;
        expect(e.outcomes.map((o) => o.share), `${n} endpoints`).toEqual(Array(n).fill(each));
        expect(e.paths.map((p) => p.share), `${n} endpoints`).toEqual(Array(n).fill(each));
        expect(new Set(e.outcomes.map((o) => o.kind === 'backend' && o.endpoint)).size, `${n} endpoints`).toBe(n);
        expect(e.result, `${n} endpoints`).toBe('backend');
      }
    });
  }
});
