/**
 * The subset of Kubernetes object shapes kpc reads. The JSON Schemas under
 * schemas/ check these shapes before any code relies on them.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  uid?: string;
  generateName?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid?: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
}

export interface ServicePort {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: {
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    selector?: Record<string, string>;
    ports?: ServicePort[];
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: ('IPv4' | 'IPv6')[];
    ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    externalIPs?: string[];
    externalName?: string;
    sessionAffinity?: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: 'Cluster' | 'Local';
    internalTrafficPolicy?: 'Cluster' | 'Local';
    healthCheckNodePort?: number;
    allocateLoadBalancerNodePorts?: boolean;
    loadBalancerSourceRanges?: string[];
    loadBalancerIP?: string;
    publishNotReadyAddresses?: boolean;
    topologyKeys?: string[];
    trafficDistribution?: string;
  };
  status?: {
    loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: 'VIP' | 'Proxy' }[] };
  };
}

export interface EndpointConditions {
  ready?: boolean | null;
  serving?: boolean | null;
  terminating?: boolean | null;
}

export interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: {
    addresses: string[];
    conditions?: EndpointConditions;
    hostname?: string;
    targetRef?: { kind: string; namespace?: string; name: string; uid?: string };
    nodeName?: string;
    zone?: string;
    hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] };
  }[];
  ports?: { name?: string; protocol?: 'TCP' | 'UDP' | 'SCTP'; port?: number; appProtocol?: string }[];
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
}

export interface Endpoints {
  apiVersion: 'v1';
  kind: 'Endpoints';
  metadata: ObjectMeta;
  subsets?: {
    addresses?: EndpointAddress[];
    notReadyAddresses?: EndpointAddress[];
    ports?: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
  }[];
}

export interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec?: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    /** Read only by --simulate, to place the pod. */
    nodeSelector?: Record<string, string>;
    /** Read only by --simulate: such a pod has its node's address. */
    hostNetwork?: boolean;
    containers?: { name: string; ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[] }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: { type: string; status: string }[];
  };
}

export interface Node {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: ObjectMeta;
  status?: { addresses?: { type: string; address: string }[] };
  spec?: { podCIDR?: string; podCIDRs?: string[] };
}

export interface KubeProxyConfiguration {
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1';
  kind: 'KubeProxyConfiguration';
  mode?: string;
  clusterCIDR?: string;
  hostnameOverride?: string;
  nodePortAddresses?: string[];
  iptables?: { masqueradeAll?: boolean; masqueradeBit?: number; localhostNodePorts?: boolean };
  ipvs?: { scheduler?: string; strictARP?: boolean };
  conntrack?: { tcpBeLiberal?: boolean };
  detectLocalMode?: string;
}

/**
 * networking.k8s.io/v1 ServiceCIDR: a range the API server allocates cluster
 * IPs from. kube-proxy drops traffic to addresses in these ranges that no
 * Service holds; kpc's simulation allocates from them.
 */
export interface ServiceCIDR {
  apiVersion: 'networking.k8s.io/v1' | 'networking.k8s.io/v1beta1';
  kind: 'ServiceCIDR';
  metadata: ObjectMeta;
  spec?: { cidrs?: string[] };
}

/** The pod template of a workload, as --simulate reads it. */
export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: NonNullable<Pod['spec']>;
}

/** A controller whose pods --simulate makes: apps/v1 Deployment, ReplicaSet, StatefulSet, DaemonSet, v1 ReplicationController. */
export interface Workload {
  apiVersion: 'apps/v1' | 'v1';
  kind: WorkloadKind;
  metadata: ObjectMeta;
  spec: { replicas?: number; serviceName?: string; template: PodTemplate };
}

export type WorkloadKind = 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'ReplicationController';

export type KubeObject = Service | EndpointSlice | Endpoints | Pod | Node | ServiceCIDR;

/** The objects of one input, grouped by kind, each list sorted by namespace/name. */
export interface Inventory {
  services: Service[];
  endpointSlices: EndpointSlice[];
  endpoints: Endpoints[];
  pods: Pod[];
  nodes: Node[];
  serviceCIDRs: ServiceCIDR[];
}
