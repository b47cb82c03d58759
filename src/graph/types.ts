/**
 * The routing graph: kpc's intermediate representation.
 *
 * Every Service semantic (which endpoints serve which traffic, what is
 * masqueraded, what is rejected or dropped) is decided while this graph is
 * built, once, for one node. Emitters only translate it; if an emitter needs
 * an `if` about Kubernetes semantics, that decision belongs here instead.
 *
 * The graph is plain data: no class instances, no functions, so it can be
 * printed as JSON and compared in tests. Every list is sorted by identity,
 * which makes the output independent of input order.
 */

export type IPFamily = 4 | 6;
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** What a packet meets when a frontend has nowhere to send it. */
export type Verdict = 'reject' | 'drop';

/** Which endpoint list a traffic class is sent to. */
export type EndpointSet = 'cluster' | 'local';

export interface RoutingGraph {
  /** The node the rules are for. */
  node: NodeContext;
  /** One entry per (service, service port, IP family), sorted by `id`. */
  servicePorts: ServicePortRoute[];
  /** Services that get no rules on any node, with the reason (for --verbose). */
  skipped: SkippedService[];
  /** Whether --simulate (or a `kpc simulate` List) supplied addresses or pods; rule files say so. */
  simulated?: boolean;
}

export interface NodeContext {
  /** The node's name as Kubernetes knows it; '' when not given (then no endpoint is local). */
  name: string;
  /** Node addresses per family, primary first. */
  ips: { 4: string[]; 6: string[] };
  /**
   * The pod network of each family, used to tell pod traffic from other traffic
   * ("detect-local-mode ClusterCIDR"). null: unknown, so no rule depends on it.
   */
  clusterCIDR: { 4: string | null; 6: string | null };
  /**
   * The ranges cluster IPs are allocated from, per family, canonical and
   * sorted: from --service-cidr, else from the input's ServiceCIDR objects.
   * kube-proxy drops traffic to an address in them that no Service holds;
   * empty: unknown, so nothing is dropped for it.
   */
  serviceCIDRs: { 4: string[]; 6: string[] };
  /** topology.kubernetes.io/zone of this node, for topology hints. */
  zone: string | null;
  /** Labels of this node's Node object (legacy topologyKeys use them). */
  labels: Record<string, string>;
  /** Masquerade every packet sent to a cluster IP (kube-proxy --masquerade-all). */
  masqueradeAll: boolean;
  /** The firewall mark bit meaning "masquerade me", as hex: 1 << masqueradeBit. */
  masqueradeMark: string;
  /** Node ports answer on 127.0.0.1 too (IPv4 only; kube-proxy's localhostNodePorts). */
  localhostNodePorts: boolean;
  /**
   * Node-port addresses per family: null means every local address
   * (`--dst-type LOCAL` / `fib daddr type local`); a list limits node ports to these IPs.
   */
  nodePortAddresses: { 4: string[] | null; 6: string[] | null };
  /** The IPVS scheduler used where a Service does not choose its own. */
  ipvsScheduler: string;
  /** IPVS strictARP (arp_ignore/arp_announce), reported in the IPVS output. */
  ipvsStrictARP: boolean;
  /**
   * Drop forwarded packets conntrack calls INVALID (kubernetes#74839). kube-proxy
   * leaves the rule out when conntrack.tcpBeLiberal is set, since the kernel
   * then accepts out-of-window packets itself.
   */
  dropInvalidForwarded: boolean;
  /**
   * The host's iptables has MASQUERADE --random-fully (kube-proxy checks and
   * adds it only then; every iptables since 1.6.2 has it). iptables and IPVS modes.
   */
  randomFully: boolean;
  /**
   * The host's kernel has nfacct (xt_nfacct): kube-proxy's iptables mode then
   * counts dropped INVALID packets and accepted localhost node-port packets
   * with `-m nfacct` rules.
   */
  nfacct: boolean;
}

/** A service port, for one IP family, with every decision made. */
export interface ServicePortRoute {
  /** Unique, sortable identity: `namespace/name/PROTOCOL/portName/family`. */
  id: string;
  namespace: string;
  name: string;
  /** The port's name; '' when the Service has one unnamed port. */
  portName: string;
  /** kube-proxy's ServicePortName string: `ns/name` or `ns/name:portName`. */
  servicePortName: string;
  family: IPFamily;
  protocol: Protocol;

  /** The cluster IP of this family. */
  clusterIP: string;
  /** The service port (cluster IP, external IP and load-balancer IP frontends use it). */
  port: number;
  /** The node port, or null when the Service has none. */
  nodePort: number | null;
  /** spec.externalIPs of this family. */
  externalIPs: string[];
  /** status.loadBalancer.ingress IPs of this family, except ipMode Proxy ones. */
  loadBalancerIPs: string[];
  /** spec.healthCheckNodePort (externalTrafficPolicy Local load balancers), or null. */
  healthCheckNodePort: number | null;
  /** ClientIP session affinity timeout in seconds, or null without affinity. */
  affinityTimeoutSeconds: number | null;
  /** IPVS scheduler for this service port (the node default unless the Service chose one). */
  ipvsScheduler: string;

  /** Every endpoint known for this port and family, before any choice. */
  endpoints: Endpoint[];
  /** Endpoints for traffic under the Cluster policy (ready, or terminating fallback, topology-filtered). */
  clusterEndpoints: Endpoint[];
  /** Endpoints on this node for traffic under the Local policy. */
  localEndpoints: Endpoint[];
  /** Every endpoint some rule can reach: each gets its own endpoint chain. */
  reachableEndpoints: Endpoint[];
  /** Some usable endpoint exists anywhere; when false every frontend rejects. */
  hasEndpoints: boolean;
  /**
   * The endpoint lists some traffic is actually sent to (each becomes a chain:
   * KUBE-SVC / KUBE-SVL, service- / local-). A list with no endpoints, or one no
   * route leads to, is left out.
   */
  endpointSets: EndpointSet[];

  /** Traffic to the cluster IP. */
  internal: InternalRoute;
  /** Traffic to node ports, external IPs and load-balancer IPs; null when there are none. */
  external: ExternalRoute | null;
  /** loadBalancerSourceRanges filtering for the load-balancer IPs, or null (none of this family, or one of prefix length 0). */
  firewall: FirewallRoute | null;

  /** Why endpoints were chosen as they were (topology, fallback), for --verbose. */
  notes: string[];
}

export interface InternalRoute {
  /** The endpoint list cluster-IP traffic goes to, or null when it meets `verdict`. */
  target: EndpointSet | null;
  /** reject: no endpoints at all; drop: internalTrafficPolicy Local and none on this node. */
  verdict: Verdict | null;
  /**
   * Which sources to masquerade: 'all' (masqueradeAll), 'off-cluster' (sources
   * outside the cluster CIDR), or 'none' (cluster CIDR unknown).
   */
  masquerade: 'all' | 'off-cluster' | 'none';
}

export interface ExternalRoute {
  policy: 'Cluster' | 'Local';
  /**
   * A per-port external chain exists (kube-proxy's KUBE-EXT / external-HASH):
   * true whenever the port has endpoints anywhere, because the short-circuit
   * rules for pod and node traffic are needed even with no local endpoint.
   */
  hasChain: boolean;
  /** Masquerade everything entering the external chain (policy Cluster). */
  masqueradeAll: boolean;
  /** Policy Local: traffic from pods (cluster CIDR) goes to the cluster endpoints, unmasqueraded. */
  podsToCluster: boolean;
  /** Policy Local: traffic from this node's own addresses is masqueraded and goes to the cluster endpoints. */
  nodeToCluster: boolean;
  /** Where the rest goes after those rules, or null to fall through to `verdict`. */
  target: EndpointSet | null;
  /** reject: no endpoints at all; drop: policy Local and no local endpoint. */
  verdict: Verdict | null;
}

export interface FirewallRoute {
  /** Source CIDRs allowed to reach the load-balancer IPs. */
  sourceRanges: string[];
  /**
   * The node's own address is inside a source range, so traffic that loops back
   * with a load-balancer IP as its source is allowed too.
   */
  allowLoadBalancerIPsAsSource: boolean;
}

export interface Endpoint {
  ip: string;
  port: number;
  /** kube-proxy's endpoint string: `ip:port`, or `[ip]:port` for IPv6. */
  hostPort: string;
  nodeName: string | null;
  zone: string | null;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this node (nodeName equals the node's name). */
  isLocal: boolean;
  /** Topology hints from the EndpointSlice. */
  zoneHints: string[];
  nodeHints: string[];
}

export interface SkippedService {
  namespace: string;
  name: string;
  reason: string;
}
