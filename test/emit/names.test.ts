import { describe, expect, it } from 'vitest';
import { endpointChain, portChains } from '../../src/emit/iptables/names.js';
import { probability } from '../../src/emit/iptables/probability.js';
import { affinitySetName, endpointChainName, nftPortChains } from '../../src/emit/nftables/names.js';
import type { Endpoint, ServicePortRoute } from '../../src/graph/types.js';

/** kube-proxy's own test vectors (pkg/proxy/iptables and nftables proxier tests). */
const route = { servicePortName: 'ns1/svc1:p80', namespace: 'ns1', name: 'svc1', portName: 'p80', protocol: 'TCP' } as ServicePortRoute;
const endpoint = { ip: '10.180.0.1', port: 80, hostPort: '10.180.0.1:80' } as Endpoint;

describe('chain names', () => {
  it('iptables: KUBE-SVC and KUBE-SEP hashes match kube-proxy', () => {
    expect(portChains(route).cluster).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(endpointChain(route, endpoint)).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  it('nftables: HASH-base names match kube-proxy', () => {
    expect(nftPortChains(route).cluster).toBe('service-ULMVA6XW-ns1/svc1/tcp/p80');
    expect(endpointChainName(route, endpoint)).toBe('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
    expect(affinitySetName(route, endpoint)).toBe('affinity-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  });

  it('nftables: IPv6 endpoint colons become dots', () => {
    const v6 = { ip: 'fd00::1', port: 80, hostPort: '[fd00::1]:80' } as Endpoint;
    expect(endpointChainName(route, v6)).toMatch(/^endpoint-[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80__fd00..1\/80$/);
  });
});

describe('probability', () => {
  it("is Go's %0.10f of 1/n, ties rounded to even", () => {
    expect(probability(2)).toBe('0.5000000000');
    expect(probability(3)).toBe('0.3333333333');
    expect(probability(7)).toBe('0.1428571429');
    // 1/2048 = 0.00048828125 exactly: a tie, and Go rounds it to the even digit.
    expect(probability(2048)).toBe('0.0004882812');
  });
});
