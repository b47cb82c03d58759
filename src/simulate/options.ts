/**
 * What the simulation is told: the ranges the control plane hands out from
 * and the nodes there are. Checked by the CLI (bad flags are usage errors).
 */
export interface SimulateOptions {
  /** --service-node-port-range as [first, last] (default 30000-32767, the API server's). */
  nodePortRange?: [number, number];
  /** --load-balancer-pool: where LoadBalancer ingress addresses come from (none: they stay pending). */
  loadBalancerPools?: string[];
  /** --simulate-nodes N: simulated nodes besides the input's and --node-name's. */
  extraNodes?: number;
}

/** The API server's default --service-node-port-range. */
export const DEFAULT_NODE_PORT_RANGE: [number, number] = [30000, 32767];

/** kubeadm's default --service-cidr; there is no IPv6 default to copy, so IPv6 needs --service-cidr. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

/** The pod network when no --cluster-cidr is given: the one kubeadm's and flannel's documentation use. */
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';

/** kube-controller-manager's default --node-cidr-mask-size for each family. */
export const NODE_CIDR_MASK = { 4: 24, 6: 64 } as const;

/** Names of the nodes --simulate-nodes adds: sim-node-1, sim-node-2, ... */
export const SIMULATED_NODE_PREFIX = 'sim-node-';
