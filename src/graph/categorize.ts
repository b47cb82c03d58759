import type { Endpoint } from './types.js';

/** What kube-proxy needs to know of a service port to choose its endpoints. */
export interface PolicyFacts {
  internalPolicyLocal: boolean;
  externalPolicyLocal: boolean;
  externallyAccessible: boolean;
}

export interface Categorized {
  clusterEndpoints: Endpoint[];
  localEndpoints: Endpoint[];
  reachableEndpoints: Endpoint[];
  hasEndpoints: boolean;
  notes: string[];
}

/** The node's name and zone (the NodeContext itself, so no object is made per service port). */
export interface TopologyContext {
  name: string;
  zone: string | null;
}

/**
 * kube-proxy's CategorizeEndpoints (pkg/proxy/topology.go): the endpoints for
 * Cluster-policy traffic, for Local-policy traffic, and every endpoint either
 * can reach. Ready endpoints are used while any exist; otherwise serving and
 * terminating ones; never endpoints that are not serving.
 */
export function categorizeEndpoints(endpoints: Endpoint[], facts: PolicyFacts, topology: TopologyContext): Categorized {
  const notes: string[] = [];
  const usesCluster = !facts.internalPolicyLocal || facts.externallyAccessible;
  const usesLocal = facts.internalPolicyLocal || (facts.externallyAccessible && facts.externalPolicyLocal);
  let clusterEndpoints: Endpoint[] = [];
  let hasEndpoints = false;
  let topologyMode: TopologyMode = null;
  if (usesCluster) {
    topologyMode = topologyModeFromHints(endpoints, topology);
    if (topologyMode) notes.push(`topology hints: only endpoints hinted for this ${topologyMode === 'node' ? 'node' : `zone (${topology.zone})`}`);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && availableForTopology(ep, topologyMode, topology));
    if (clusterEndpoints.length === 0) {
      clusterEndpoints = endpoints.filter((ep) => ep.serving && ep.terminating);
      if (clusterEndpoints.length) notes.push('no ready endpoint: using serving terminating endpoints');
    }
    hasEndpoints = clusterEndpoints.length > 0;
  }
  if (!usesLocal) return { clusterEndpoints, localEndpoints: [], reachableEndpoints: clusterEndpoints, hasEndpoints, notes };

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasEndpoints = true;
      localReady ||= ep.isLocal;
    } else if (ep.serving && ep.terminating) {
      hasEndpoints = true;
      localServingTerminating ||= ep.isLocal;
    }
  }
  let localEndpoints: Endpoint[] = [];
  let usesServingTerminating = false;
  if (localReady) localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (localServingTerminating) {
    usesServingTerminating = true;
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
    notes.push('no ready local endpoint: using serving terminating local endpoints');
  }
  if (!usesCluster) return { clusterEndpoints, localEndpoints, reachableEndpoints: localEndpoints, hasEndpoints, notes };
  if (!topologyMode && !usesServingTerminating) return { clusterEndpoints, localEndpoints, reachableEndpoints: clusterEndpoints, hasEndpoints, notes };
  return { clusterEndpoints, localEndpoints, reachableEndpoints: union(clusterEndpoints, localEndpoints), hasEndpoints, notes };
}

type TopologyMode = 'node' | 'zone' | null;

/**
 * Hints are used only when every ready endpoint carries them and at least one
 * is hinted for this node (or zone); otherwise traffic goes everywhere.
 */
function topologyModeFromHints(endpoints: Endpoint[], topology: TopologyContext): TopologyMode {
  let anyReady = false;
  let allNodeHints = true;
  let allZoneHints = true;
  let forNode = false;
  let forZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    anyReady = true;
    if (ep.nodeHints.length === 0) allNodeHints = false;
    else if (ep.nodeHints.includes(topology.name)) forNode = true;
    if (ep.zoneHints.length === 0) allZoneHints = false;
    else if (topology.zone !== null && ep.zoneHints.includes(topology.zone)) forZone = true;
  }
  if (!anyReady) return null;
  if (allNodeHints && forNode) return 'node';
  if (allZoneHints && forZone) return 'zone';
  return null;
}

function availableForTopology(ep: Endpoint, mode: TopologyMode, topology: TopologyContext): boolean {
  if (mode === 'node') return ep.nodeHints.includes(topology.name);
  if (mode === 'zone') return topology.zone !== null && ep.zoneHints.includes(topology.zone);
  return true;
}

function union(a: Endpoint[], b: Endpoint[]): Endpoint[] {
  const byText = new Map<string, Endpoint>();
  for (const ep of [...a, ...b]) byText.set(ep.hostPort, ep);
  return [...byText.values()].sort((x, y) => (x.hostPort < y.hostPort ? -1 : x.hostPort > y.hostPort ? 1 : 0));
}
