import { describe, expect, it } from 'vitest';
import { deployment, service, simulateText, simulationErrors } from './helpers.js';

const ipv4 = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);

describe('cluster IPs', () => {
  it('come from kubeadm\'s 10.96.0.0/12 by default, outside the static band at its bottom (KEP-3070: 256 addresses)', () => {
    const names = Array.from({ length: 200 }, (_, i) => `svc-${i}`);
    const { services } = simulateText(names.map((n) => service(n)).join(''));
    const ips = names.map((n) => services.get(`default/${n}`)!.spec.clusterIP!);
    for (const ip of ips) {
      expect(ipv4(ip)).toBeGreaterThan(ipv4('10.96.1.0'));
      expect(ipv4(ip)).toBeLessThan(ipv4('10.111.255.255'));
    }
    expect(new Set(ips).size).toBe(ips.length);
    expect(services.get('default/svc-0')!.spec).toMatchObject({ clusterIPs: [ips[0]], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
  });

  it('stay out of the static band of a small range too (a /24: its first 16 addresses)', () => {
    const names = Array.from({ length: 100 }, (_, i) => `s${i}`);
    const { services } = simulateText(names.map((n) => service(n)).join(''), { serviceCIDRs: ['10.0.0.0/24'] });
    for (const n of names) expect(ipv4(services.get(`default/${n}`)!.spec.clusterIP!) - ipv4('10.0.0.0')).toBeGreaterThan(16);
  });

  it('use the static band only when the rest of the range is full, as the API server does', () => {
    // A /27 has 30 usable addresses, 16 of them the static band.
    const names = Array.from({ length: 30 }, (_, i) => `s${i}`);
    const { services } = simulateText(names.map((n) => service(n)).join(''), { serviceCIDRs: ['10.0.0.0/27'] });
    const offsets = names.map((n) => ipv4(services.get(`default/${n}`)!.spec.clusterIP!) - ipv4('10.0.0.0')).sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Services are served in namespace/name order: the last, default/s9, finds none left.
    expect(simulationErrors([...names, 'one-more'].map((n) => service(n)).join(''), { serviceCIDRs: ['10.0.0.0/27'] })).toEqual([
      'in.yaml:20: Service default/s9: spec.clusterIP: no IPv4 address is left in the service CIDR 10.0.0.0/27; pass a larger --service-cidr',
    ]);
  });

  it('keep explicit addresses, and never hand them to another Service', () => {
    const { services } = simulateText(service('dns', { clusterIP: '10.96.0.10' }) + service('web'));
    expect(services.get('default/dns')!.spec.clusterIP).toBe('10.96.0.10');
    expect(services.get('default/web')!.spec.clusterIP).not.toBe('10.96.0.10');
  });

  it('refuse an explicit address outside the service CIDR, and one claimed twice, naming both Services', () => {
    expect(simulationErrors(service('a', { clusterIP: '10.0.0.1' }))).toEqual([
      'in.yaml:2: Service default/a: spec.clusterIP: 10.0.0.1 is not in the service CIDR (10.96.0.0/12) or is its network or broadcast address; the API server refuses it: pick an address inside, or pass the cluster\'s --service-cidr',
    ]);
    expect(simulationErrors(service('a', { clusterIP: '10.96.5.5' }) + service('b', { clusterIP: '10.96.5.5' }))).toEqual([
      'in.yaml:4: Service default/b: spec.clusterIP: 10.96.5.5 is also the cluster IP of Service default/a (in.yaml:2); the API server gives an address to one Service only',
    ]);
  });

  it('follow ipFamilyPolicy: PreferDualStack gets both families on a dual-stack cluster, one on a single-stack one; RequireDualStack needs both', () => {
    const dual = { serviceCIDRs: ['10.96.0.0/16', 'fd00:10:96::/112'] };
    const text = service('prefer', { ipFamilyPolicy: 'PreferDualStack' }) + service('v6', { ipFamilies: ['IPv6'] }) + service('single');
    const { services } = simulateText(text, dual);
    expect(services.get('default/prefer')!.spec.ipFamilies).toEqual(['IPv4', 'IPv6']);
    expect(services.get('default/prefer')!.spec.clusterIPs![1]).toMatch(/^fd00:10:96::/);
    expect(services.get('default/v6')!.spec.clusterIPs).toHaveLength(1);
    expect(services.get('default/v6')!.spec.clusterIP).toMatch(/^fd00:10:96::/);
    expect(services.get('default/single')!.spec.ipFamilies).toEqual(['IPv4']);
    expect(simulateText(service('prefer', { ipFamilyPolicy: 'PreferDualStack' })).services.get('default/prefer')!.spec.ipFamilies).toEqual(['IPv4']);
    expect(simulationErrors(service('req', { ipFamilyPolicy: 'RequireDualStack' }))[0]).toContain('spec.ipFamilyPolicy: RequireDualStack needs a service CIDR of each family');
    expect(simulationErrors(service('v6', { ipFamilies: ['IPv6'] }))[0]).toContain('pass --service-cidr fd00:10:96::/112 (kpc has no IPv6 default)');
  });

  it('leave headless and ExternalName Services without one', () => {
    const { services } = simulateText(service('h', { clusterIP: 'None' }) + service('x', { type: 'ExternalName', externalName: 'example.com', ports: [] }));
    expect(services.get('default/h')!.spec.clusterIPs).toBeUndefined();
    expect(services.get('default/x')!.spec.clusterIP).toBeUndefined();
  });
});

describe('node ports', () => {
  it('come from 30000-32767 outside its static band (KEP-3668: the first 86 ports), one per port, shared by TCP and UDP of one number', () => {
    const ports = [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'web', port: 80 },
    ];
    const { services } = simulateText(service('np', { type: 'NodePort', ports }));
    const given = services.get('default/np')!.spec.ports!.map((p) => p.nodePort!);
    expect(given[0]).toBe(given[1]);
    expect(given[2]).not.toBe(given[0]);
    for (const port of given) expect(port).toBeGreaterThanOrEqual(30086);
    for (const port of given) expect(port).toBeLessThanOrEqual(32767);
  });

  it('are not given to LoadBalancer Services with allocateLoadBalancerNodePorts false; health check ports go to those with externalTrafficPolicy Local', () => {
    const { services } = simulateText(
      service('lb', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Local' }) + service('lb2', { type: 'LoadBalancer' }) + service('cip'),
    );
    expect(services.get('default/lb')!.spec.ports![0]!.nodePort).toBeUndefined();
    expect(services.get('default/lb')!.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30086);
    expect(services.get('default/lb2')!.spec.ports![0]!.nodePort).toBeGreaterThanOrEqual(30086);
    expect(services.get('default/lb2')!.spec.healthCheckNodePort).toBeUndefined();
    expect(services.get('default/cip')!.spec.ports![0]!.nodePort).toBeUndefined();
  });

  it('refuse an explicit port outside the range or claimed twice, and say when the range is used up', () => {
    expect(simulationErrors(service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }))).toEqual([
      "in.yaml:2: Service default/a: spec.ports[0].nodePort: 8080 is outside the node port range 30000-32767; the API server refuses it: pick a port inside, or pass the cluster's --service-node-port-range",
    ]);
    expect(simulationErrors(service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }) + service('b', { type: 'NodePort', ports: [{ port: 81, nodePort: 30001 }] }))).toEqual([
      'in.yaml:4: Service default/b: spec.ports[0].nodePort: 30001 is also a node port of Service default/a (in.yaml:2); the API server gives a node port to one Service only',
    ]);
    const errors = simulationErrors(service('a', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }, { name: 'c', port: 82 }] }), { simulate: { nodePortRange: [30000, 30001] } });
    expect(errors).toEqual(['in.yaml:2: Service default/a: spec.ports[2].nodePort: no node port is left in the range 30000-30001; pass a larger --service-node-port-range']);
  });
});

describe('load balancers', () => {
  it('get ingress addresses only from --load-balancer-pool; without one they stay pending and -v says so', () => {
    const text = service('lb', { type: 'LoadBalancer' }) + service('fixed', { type: 'LoadBalancer', loadBalancerIP: '192.0.2.7' });
    const pending = simulateText(text);
    expect(pending.services.get('default/lb')!.status).toBeUndefined();
    expect(pending.notes).toContain('Service default/lb: load balancer pending (no --load-balancer-pool)');
    const { services } = simulateText(text, { simulate: { loadBalancerPools: ['192.0.2.0/28'] } });
    expect(services.get('default/fixed')!.status!.loadBalancer!.ingress).toEqual([{ ip: '192.0.2.7' }]);
    const ip = services.get('default/lb')!.status!.loadBalancer!.ingress![0]!.ip!;
    expect(ipv4(ip) - ipv4('192.0.2.0')).toBeGreaterThan(0);
    expect(ipv4(ip) - ipv4('192.0.2.0')).toBeLessThan(15);
    expect(ip).not.toBe('192.0.2.7');
  });
});

describe('stability', () => {
  it('gives a Service the same addresses whatever else the input holds', () => {
    const web = service('web', { type: 'NodePort' });
    const alone = simulateText(web).services.get('default/web')!.spec;
    const crowded = simulateText(service('a') + deployment('d', 2, { app: 'd' }) + web + service('z', { type: 'NodePort' })).services.get('default/web')!.spec;
    expect(crowded.clusterIP).toBe(alone.clusterIP);
    expect(crowded.ports).toEqual(alone.ports);
  });
});
