import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainPacket, type Packet } from '../../src/explain/index.js';

/** Tracer semantics on hand-written nft texts, in the listed form `nft list` prints. */

const NODE = { ips: ['192.0.2.10', '2001:db8::10'], clusterCIDRs: ['10.244.0.0/16'] };
const packet = (src: string, dst: string, dport = 80, protocol: Packet['protocol'] = 'tcp'): Packet => ({ family: src.includes(':') ? 6 : 4, src, dst, dport, protocol });
const trace = (text: string, p: Packet) => explainPacket(text, 'nftables', p, NODE);

/** As `nft list table ip kube-proxy` prints it: symbolic priorities, counters, comments. */
const LISTED = `table ip kube-proxy {
	comment "rules for kube-proxy"
	set cluster-ips {
		type ipv4_addr
		elements = { 10.96.0.10 }
	}
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 10.96.0.10 . tcp . 80 : goto service-AAAAAAAA-ns/web/tcp/http }
	}
	map no-endpoint-services {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 10.96.0.11 . udp . 53 comment "ns/dns:dns" : goto reject-chain }
	}
	chain filter-forward {
		type filter hook forward priority filter - 110; policy accept;
		ct state new jump service-endpoints-check
		ct state new jump cluster-ips-check
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		meta mark & 0x00004000 == 0x00000000 return
		meta mark set meta mark ^ 0x00004000
		masquerade fully-random
	}
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
	}
	chain service-endpoints-check {
		ip daddr . meta l4proto . th dport vmap @no-endpoint-services
	}
	chain cluster-ips-check {
		ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
	}
	chain reject-chain {
		reject
	}
	chain service-AAAAAAAA-ns/web/tcp/http {
		ip daddr 10.96.0.10 tcp dport 80 ip saddr != { 10.244.0.0/16, 172.16.0.1-172.16.0.9 } jump mark-for-masquerade
		numgen random mod 4 vmap { 0-2 : goto endpoint-BBBBBBBB-ns/web/tcp/http__10.244.1.2/8080, 3 : goto endpoint-CCCCCCCC-ns/web/tcp/http__10.244.1.3/8080 }
	}
	chain mark-for-masquerade {
		counter packets 3 bytes 180 meta mark set meta mark | 0x00004000
	}
	chain endpoint-BBBBBBBB-ns/web/tcp/http__10.244.1.2/8080 {
		meta l4proto tcp dnat to 10.244.1.2:8080
	}
	chain endpoint-CCCCCCCC-ns/web/tcp/http__10.244.1.3/8080 {
		meta l4proto tcp dnat to 10.244.1.3:8080
	}
}
`;

describe('nftables tracer', () => {
  it('reads the listed form: symbolic priorities, set ranges, numgen ranges, service names from chain names', () => {
    const fromPod = trace(LISTED, packet('10.244.5.5', '10.96.0.10'));
    expect(fromPod.warnings).toEqual([]);
    expect(fromPod.outcomes).toEqual([
      { kind: 'backend', probability: 0.75, share: '3/4', service: 'ns/web:http', endpoint: '10.244.1.2:8080', masquerade: false },
      { kind: 'backend', probability: 0.25, share: '1/4', service: 'ns/web:http', endpoint: '10.244.1.3:8080', masquerade: false },
    ]);
    // Inside the anonymous set's range: not masqueraded; outside both: masqueraded.
    expect(trace(LISTED, packet('172.16.0.5', '10.96.0.10')).outcomes.every((o) => o.kind === 'backend' && !o.masquerade)).toBe(true);
    expect(trace(LISTED, packet('172.16.0.10', '10.96.0.10')).outcomes.every((o) => o.kind === 'backend' && o.masquerade)).toBe(true);
  });

  it('rejects through reject-chain with the no-endpoints reason and the element comment as service', () => {
    const e = trace(LISTED, packet('10.244.5.5', '10.96.0.11', 53, 'udp'));
    expect(e.outcomes).toEqual([{ kind: 'reject', probability: 1, share: '1', service: 'ns/dns:dns', reason: expect.stringMatching(/^no endpoints/) }]);
    expect(e.paths[0]!.steps.map((s) => s.chain)).toEqual(['nat-prerouting', 'filter-forward', 'service-endpoints-check', 'reject-chain']);
  });

  it('rejects an unknown port of a cluster IP (cluster-ips-check)', () => {
    expect(trace(LISTED, packet('10.244.5.5', '10.96.0.10', 81)).outcomes).toEqual([
      { kind: 'reject', probability: 1, share: '1', service: null, reason: expect.stringMatching(/^no such service port/) },
    ]);
  });

  it('drops an address of a service CIDR that no Service holds, and says why', () => {
    const withDrop = LISTED.replace(
      'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
      'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"\n\t\tip daddr 10.96.0.0/16 drop comment "Drop traffic to unallocated ClusterIPs"',
    );
    expect(trace(withDrop, packet('10.244.5.5', '10.96.0.99')).outcomes).toEqual([
      { kind: 'drop', probability: 1, share: '1', service: null, reason: expect.stringMatching(/^unallocated cluster IP/) },
    ]);
    // A held cluster IP's other port is still rejected first; outside the range nothing applies.
    expect(trace(withDrop, packet('10.244.5.5', '10.96.0.10', 81)).outcomes).toMatchObject([{ kind: 'reject', reason: expect.stringMatching(/^no such service port/) }]);
    expect(trace(withDrop, packet('10.244.5.5', '10.97.0.1')).outcomes).toMatchObject([{ kind: 'untouched' }]);
  });

  it('follows the base-chain layout: before kubernetes#132456 the node meets a no-local-endpoint drop, today it is short-circuited', () => {
    const text = (filterPriority: string) => `table ip kube-proxy {
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 198.51.100.40 . tcp . 80 : goto external-AAAAAAAA-ns/lb/tcp/http }
	}
	map no-endpoint-services {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 198.51.100.40 . tcp . 80 comment "ns/lb:http" : drop }
	}
	chain filter-output {
		type filter hook output priority ${filterPriority}; policy accept;
		ct state new jump service-endpoints-check
	}
	chain nat-output {
		type nat hook output priority dstnat; policy accept;
		jump services
	}
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
	}
	chain service-endpoints-check {
		ip daddr . meta l4proto . th dport vmap @no-endpoint-services
	}
	chain external-AAAAAAAA-ns/lb/tcp/http {
		ip saddr 10.244.0.0/16 goto service-AAAAAAAA-ns/lb/tcp/http
		fib saddr type local goto service-AAAAAAAA-ns/lb/tcp/http
	}
	chain service-AAAAAAAA-ns/lb/tcp/http {
		numgen random mod 1 vmap { 0 : goto endpoint-BBBBBBBB-ns/lb/tcp/http__10.244.2.5/80 }
	}
	chain endpoint-BBBBBBBB-ns/lb/tcp/http__10.244.2.5/80 {
		meta l4proto tcp dnat to 10.244.2.5:80
	}
}
`;
    expect(trace(text('filter - 110'), packet('192.0.2.10', '198.51.100.40')).outcomes).toMatchObject([{ kind: 'drop', reason: expect.stringMatching(/^no local endpoint/) }]);
    expect(trace(text('filter'), packet('192.0.2.10', '198.51.100.40')).outcomes).toMatchObject([{ kind: 'backend', endpoint: '10.244.2.5:80' }]);
  });

  it('ignores tables of the other family and says so when none applies', () => {
    const e = trace(LISTED, packet('fd00::1', 'fd00:10:96::1'));
    expect(e.outcomes).toMatchObject([{ kind: 'untouched' }]);
    expect(e.warnings).toEqual([expect.stringContaining('no ip6 or inet table')]);
  });

  it('a base chain with policy drop drops what it does not accept', () => {
    const text = 'add table inet fw\nadd chain inet fw input { type filter hook input priority 0 ; policy drop ; }\nadd rule inet fw input tcp dport 22 accept\n';
    expect(trace(text, packet('203.0.113.1', '192.0.2.10', 22)).outcomes).toMatchObject([{ kind: 'untouched', delivered: 'local' }]);
    expect(trace(text, packet('203.0.113.1', '192.0.2.10', 23)).outcomes).toEqual([{ kind: 'drop', probability: 1, share: '1', service: null, reason: 'chain input policy drop' }]);
  });

  it('reads a live affinity set: a remembered client goes back to its backend', () => {
    const sticky = (elements: string) => `table ip kube-proxy {
	set affinity-A {
		type ipv4_addr
		size 65535
		flags dynamic,timeout
		timeout 10m${elements}
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip saddr @affinity-A goto endpoint-A
		numgen random mod 2 vmap { 0 : goto endpoint-A, 1 : goto endpoint-B }
	}
	chain endpoint-A {
		update @affinity-A { ip saddr }
		meta l4proto tcp dnat to 10.244.1.2:80
	}
	chain endpoint-B {
		meta l4proto tcp dnat to 10.244.1.3:80
	}
}
`;
    const fresh = trace(sticky(''), packet('10.244.5.5', '10.96.0.10'));
    expect(fresh).toMatchObject({ affinitySeconds: 600, affinityRemembered: false });
    expect(fresh.outcomes).toHaveLength(2);
    const live = trace(sticky('\n\t\telements = { 10.244.5.5 timeout 10m expires 9m58s }'), packet('10.244.5.5', '10.96.0.10'));
    expect(live).toMatchObject({ affinitySeconds: 600, affinityRemembered: true, warnings: [] });
    expect(live.outcomes).toEqual([{ kind: 'backend', probability: 1, share: '1', service: null, endpoint: '10.244.1.2:80', masquerade: false }]);
  });
});

describe('nftables tracer on the compact layout\'s ClientIP affinity', () => {
  /** As `nft list` prints kpc's affinity chains: no `offset 0`, the remembered index as the key's last field. */
  const sticky = (elements: string, mapElements = '10.96.0.10 . tcp . 80 . 0 : 10.244.1.2 . 80, 10.96.0.10 . tcp . 80 . 1 : 10.244.1.3 . 80') => `table ip kube-proxy {
	map cluster-endpoints-n2 {
		typeof ip daddr . meta l4proto . th dport . numgen random mod 2 : ip daddr . th dport
		elements = { ${mapElements} }
	}
	set affinity-cluster-tcp-600 {
		typeof ip saddr . ip daddr . th dport . numgen random mod 1
		size 1048576
		flags dynamic,timeout
		timeout 10m${elements}
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		goto cluster-n2-affinity-tcp-600
	}
	chain cluster-n2-affinity-tcp-600 {
		ip saddr . ip daddr . th dport . numgen random mod 1 @affinity-cluster-tcp-600 goto cluster-n2-affinity-tcp-600-0
		ip saddr . ip daddr . th dport . numgen random mod 1 offset 1 @affinity-cluster-tcp-600 goto cluster-n2-affinity-tcp-600-1
		numgen random mod 2 vmap { 0 : goto cluster-n2-affinity-tcp-600-0, 1 : goto cluster-n2-affinity-tcp-600-1 }
	}
	chain cluster-n2-affinity-tcp-600-0 {
		update @affinity-cluster-tcp-600 { ip saddr . ip daddr . th dport . numgen random mod 1 }
		dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 1 map @cluster-endpoints-n2
	}
	chain cluster-n2-affinity-tcp-600-1 {
		update @affinity-cluster-tcp-600 { ip saddr . ip daddr . th dport . numgen random mod 1 offset 1 }
		dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 1 offset 1 map @cluster-endpoints-n2
	}
}
`;
  const backend = (endpoint: string, probability = 1, share = '1') => ({ kind: 'backend', probability, share, service: null, endpoint, masquerade: false });

  it('a new client: each index chain picks exactly its own element, so each endpoint 1/2', () => {
    const fresh = trace(sticky(''), packet('10.244.5.5', '10.96.0.10'));
    expect(fresh).toMatchObject({ affinitySeconds: 600, affinityRemembered: false, warnings: [] });
    expect(fresh.outcomes).toEqual([backend('10.244.1.2:80', 0.5, '1/2'), backend('10.244.1.3:80', 0.5, '1/2')]);
  });

  it('a remembered client (index 1 for this frontend) goes back to element 1 only', () => {
    const live = trace(sticky('\n\t\telements = { 10.244.5.5 . 10.96.0.10 . 80 . 1 expires 9m58s, 10.244.5.6 . 10.96.0.10 . 80 . 0 expires 9m }'), packet('10.244.5.5', '10.96.0.10'));
    expect(live).toMatchObject({ affinitySeconds: 600, affinityRemembered: true, warnings: [] });
    expect(live.outcomes).toEqual([backend('10.244.1.3:80')]);
    // Another frontend's memory is not this one's.
    const other = trace(sticky('\n\t\telements = { 10.244.5.5 . 10.96.0.11 . 80 . 1 expires 9m58s }'), packet('10.244.5.5', '10.96.0.10'));
    expect(other).toMatchObject({ affinityRemembered: false });
    expect(other.outcomes).toHaveLength(2);
  });

  it('an index with no map element does not DNAT: the rule does not match', () => {
    const shrunk = trace(sticky('\n\t\telements = { 10.244.5.5 . 10.96.0.10 . 80 . 1 expires 9m58s }', '10.96.0.10 . tcp . 80 . 0 : 10.244.1.2 . 80'), packet('10.244.5.5', '10.96.0.10'));
    expect(shrunk.warnings).toEqual([]);
    expect(shrunk.outcomes).toMatchObject([{ kind: 'untouched' }]);
  });
});

describe("nftables tracer on kube-proxy's 2026 layout", () => {
  const LIVE = readFileSync(join(import.meta.dirname, '..', 'read', 'fixtures', 'nftables-kube-proxy-1.36-listed.nft'), 'utf8');
  const LAB = { ips: ['192.168.0.231'], clusterCIDRs: ['10.244.0.0/16'] };
  const chains = `
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain nat-output {
		type nat hook output priority dstnat; policy accept;
		jump services
	}
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}
}
`;
  // The published listing leaves out the base chains; kube-proxy's are added back (unchanged since #132456).
  const text = LIVE.replace(/\n}\n$/, chains);

  it('DNAT maps in service chains, masquerade by the services-chain mark and by the hairpin set', () => {
    const fromPod = explainPacket(text, 'nftables', packet('10.244.0.9', '10.100.192.23'), LAB);
    expect(fromPod.warnings).toEqual([]);
    expect(fromPod.outcomes).toEqual([
      { kind: 'backend', probability: 0.5, share: '1/2', service: 'kproxy-lab/backend-api:http', endpoint: '10.244.0.10:9898', masquerade: false },
      { kind: 'backend', probability: 0.5, share: '1/2', service: 'kproxy-lab/backend-api:http', endpoint: '10.244.0.8:9898', masquerade: false },
    ]);
    // The node is outside the cluster CIDR: marked in the services chain.
    expect(explainPacket(text, 'nftables', packet('192.168.0.231', '10.100.192.23'), LAB).outcomes.map((o) => o.kind === 'backend' && o.masquerade)).toEqual([true, true]);
    // A backend reaching itself: only the hairpin set masquerades it.
    const hairpin = explainPacket(text, 'nftables', packet('10.244.0.8', '10.100.192.23'), LAB);
    expect(hairpin.outcomes).toEqual([
      { kind: 'backend', probability: 0.5, share: '1/2', service: 'kproxy-lab/backend-api:http', endpoint: '10.244.0.10:9898', masquerade: false },
      { kind: 'backend', probability: 0.5, share: '1/2', service: 'kproxy-lab/backend-api:http', endpoint: '10.244.0.8:9898', masquerade: true },
    ]);
  });
});
