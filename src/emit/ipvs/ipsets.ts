import type { IPFamily } from '../../graph/types.js';
import type { TextBlock } from '../text-block.js';

/** kube-proxy's ipsets (pkg/proxy/ipvs/ipset.go): name, type and the comment its iptables rules carry. */
export const IPSETS = {
  loopBack: { name: 'KUBE-LOOP-BACK', type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  clusterIP: { name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  externalIP: { name: 'KUBE-EXTERNAL-IP', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  externalIPLocal: { name: 'KUBE-EXTERNAL-IP-LOCAL', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  loadBalancer: { name: 'KUBE-LOAD-BALANCER', type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  loadBalancerFW: { name: 'KUBE-LOAD-BALANCER-FW', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  loadBalancerLocal: { name: 'KUBE-LOAD-BALANCER-LOCAL', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  loadBalancerSourceIP: { name: 'KUBE-LOAD-BALANCER-SOURCE-IP', type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  loadBalancerSourceCIDR: { name: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  nodePortTCP: { name: 'KUBE-NODE-PORT-TCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  nodePortLocalTCP: { name: 'KUBE-NODE-PORT-LOCAL-TCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  nodePortUDP: { name: 'KUBE-NODE-PORT-UDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  nodePortLocalUDP: { name: 'KUBE-NODE-PORT-LOCAL-UDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  nodePortSCTP: { name: 'KUBE-NODE-PORT-SCTP', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  nodePortLocalSCTP: { name: 'KUBE-NODE-PORT-LOCAL-SCTP', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" },
  healthCheckNodePort: { name: 'KUBE-HEALTH-CHECK-NODE-PORT', type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  ipvsIPs: { name: 'KUBE-IPVS-IPS', type: 'hash:ip', comment: 'Kubernetes service IPs (ClusterIP, ExternalIP, LoadBalancer)' },
} as const;

export type SetKey = keyof typeof IPSETS;

/** IPv6 sets are named KUBE-6-..., as kube-proxy names them so both families can coexist. */
export function setName(key: SetKey, family: IPFamily): string {
  const name = IPSETS[key].name;
  return family === 4 ? name : name.replace(/^KUBE-/, 'KUBE-6-').slice(0, 31);
}

/** One family's sets with their entries, in kube-proxy's declaration order. */
export class IpsetCollection {
  private readonly entries = new Map<SetKey, Set<string>>();

  constructor(readonly family: IPFamily) {
    for (const key of Object.keys(IPSETS) as SetKey[]) this.entries.set(key, new Set());
  }

  add(key: SetKey, entry: string): void {
    this.entries.get(key)!.add(entry);
  }

  isEmpty(key: SetKey): boolean {
    return this.entries.get(key)!.size === 0;
  }

  name(key: SetKey): string {
    return setName(key, this.family);
  }

  /** `ipset restore` lines: create (kept if present), flush, then every entry, sorted. */
  writeRestore(out: TextBlock): void {
    const family = this.family === 4 ? 'inet' : 'inet6';
    for (const [key, entries] of this.entries) {
      const { type } = IPSETS[key];
      const options = type === 'bitmap:port' ? 'range 0-65535' : `family ${family} hashsize 1024 maxelem 65536`;
      const name = this.name(key);
      out.line(`create ${name} ${type} ${options}`);
      out.line(`flush ${name}`);
      for (const entry of [...entries].sort()) out.line(`add ${name} ${entry}`);
    }
  }
}
