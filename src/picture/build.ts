import type { Endpoint, RoutingGraph, ServicePortRoute } from '../graph/types.js';
import type { Arrow, ArrowKind, Box, BoxKind, Group, Picture } from './model.js';

/**
 * Draws the routing graph: each service port in the middle, its frontends
 * (cluster IP, node port, external and load-balancer IPs) on the left, its
 * endpoints on the right grouped by node, and the REJECT/DROP boxes for what
 * is refused. Arrow labels say which traffic takes them and under which
 * policy; services kpc writes no rules for are listed apart.
 */
export function buildPicture(graph: RoutingGraph): Picture {
  const drawing = new Drawing();
  for (const route of graph.servicePorts) drawRoute(drawing, route, graph);
  for (const skipped of graph.skipped) {
    drawing.box(`skipped ${skipped.namespace}/${skipped.name}`, 'skipped', [`${skipped.namespace}/${skipped.name}`, shortReason(skipped.reason)], drawing.group('skipped', 'no proxy rules'));
  }
  const node = graph.node.name ? `node ${graph.node.name}` : 'a node with no name (no endpoint is local)';
  return { title: `kpc routing graph for ${node}`, groups: drawing.groups, boxes: drawing.boxes, arrows: drawing.arrows };
}

/** Collects boxes and arrows, giving each box one id however often it is met. */
class Drawing {
  readonly boxes: Box[] = [];
  readonly arrows: Arrow[] = [];
  readonly groups: Group[] = [];
  private readonly ids = new Map<string, string>();
  /** Arrows by what makes two of them the same, so merging is not a scan of every arrow (quadratic on a big cluster). */
  private readonly arrowsByEnds = new Map<string, Arrow>();

  box(key: string, kind: BoxKind, lines: string[], group: string | null = null): string {
    let id = this.ids.get(key);
    if (!id) {
      id = `n${this.ids.size + 1}`;
      this.ids.set(key, id);
      this.boxes.push({ id, kind, lines, group });
    }
    return id;
  }

  group(key: string, label: string): string {
    const id = `g_${key.replace(/[^A-Za-z0-9]/g, '_')}`;
    if (!this.groups.some((g) => g.id === id)) this.groups.push({ id, label });
    return id;
  }

  /** Arrows between the same boxes drawn the same way merge into one, their labels joined. */
  arrow(from: string, to: string, kind: ArrowKind, label: string, local = false): void {
    const ends = `${from} ${to} ${local} ${kind === 'refused'}`;
    const same = this.arrowsByEnds.get(ends);
    if (same) {
      if (!same.label.split(', ').includes(label)) same.label = `${same.label}, ${label}`;
      return;
    }
    const arrow: Arrow = { from, to, label, kind, local };
    this.arrows.push(arrow);
    this.arrowsByEnds.set(ends, arrow);
  }
}

function drawRoute(d: Drawing, route: ServicePortRoute, graph: RoutingGraph): void {
  const proto = route.protocol;
  const clusterIP = d.box(`fe ${route.clusterIP} ${route.port} ${proto}`, 'frontend', [hostPort(route.clusterIP, route.port), `cluster IP, ${proto}`]);
  const affinity = route.affinityTimeoutSeconds !== null ? `, ClientIP affinity ${route.affinityTimeoutSeconds} s` : '';
  const port = d.box(`port ${route.id}`, 'service-port', [route.servicePortName, `${proto} IPv${route.family}${affinity}`]);
  d.arrow(clusterIP, port, 'frontend', 'internal');
  for (const frontend of externalFrontends(route, graph)) {
    const id = d.box(frontend.key, 'frontend', frontend.lines);
    const firewall = frontend.loadBalancer ? route.firewall : null;
    d.arrow(id, port, 'frontend', firewall ? `external, from ${firewall.sourceRanges.join(', ')} only` : 'external');
    if (firewall) d.arrow(id, verdictBox(d, 'drop', 'source not in loadBalancerSourceRanges'), 'refused', 'other sources');
  }
  drawInternal(d, route, graph);
  if (route.external) drawExternal(d, route, graph);
  // Every endpoint is drawn, used or not, so an endpoint no arrow reaches is visible.
  for (const ep of route.endpoints) endpointBox(d, ep, graph);
}

function drawInternal(d: Drawing, route: ServicePortRoute, graph: RoutingGraph): void {
  const { internal } = route;
  if (internal.verdict) {
    d.arrow(boxOf(d, route), verdictBox(d, internal.verdict, internal.verdict === 'reject' ? 'no endpoints' : 'no local endpoint'), 'refused', 'internal');
    return;
  }
  const local = internal.target === 'local';
  for (const ep of local ? route.localEndpoints : route.clusterEndpoints) d.arrow(boxOf(d, route), endpointBox(d, ep, graph), 'internal', local ? 'internal (local)' : 'internal', local);
}

function drawExternal(d: Drawing, route: ServicePortRoute, graph: RoutingGraph): void {
  const external = route.external!;
  const local = external.target === 'local';
  if (external.target) {
    for (const ep of local ? route.localEndpoints : route.clusterEndpoints) d.arrow(boxOf(d, route), endpointBox(d, ep, graph), 'external', local ? 'external (local)' : 'external', local);
  }
  if (external.podsToCluster || external.nodeToCluster) {
    const who = [external.podsToCluster ? 'pods' : null, external.nodeToCluster ? 'this node' : null].filter(Boolean).join(' and ');
    for (const ep of route.clusterEndpoints) d.arrow(boxOf(d, route), endpointBox(d, ep, graph), 'short-circuit', `external from ${who}`);
  }
  if (external.verdict) {
    d.arrow(boxOf(d, route), verdictBox(d, external.verdict, external.verdict === 'reject' ? 'no endpoints' : 'no local endpoint'), 'refused', 'external');
  }
}

function boxOf(d: Drawing, route: ServicePortRoute): string {
  return d.box(`port ${route.id}`, 'service-port', []);
}

function endpointBox(d: Drawing, ep: Endpoint, graph: RoutingGraph): string {
  const node = ep.nodeName ?? 'unknown node';
  const here = ep.nodeName !== null && ep.nodeName === graph.node.name;
  const group = d.group(`node ${node}`, `${ep.nodeName ? `node ${ep.nodeName}` : 'node not known'}${here ? ' (this node)' : ''}`);
  return d.box(`ep ${ep.hostPort}`, 'endpoint', [ep.hostPort, condition(ep)], group);
}

function condition(ep: Endpoint): string {
  if (ep.ready) return 'ready';
  if (ep.serving && ep.terminating) return 'terminating, serving';
  return ep.terminating ? 'terminating, not serving' : 'not ready';
}

function verdictBox(d: Drawing, verdict: 'reject' | 'drop', why: string): string {
  return d.box(`verdict ${verdict} ${why}`, 'verdict', [verdict.toUpperCase(), why]);
}

interface FrontendDrawing {
  key: string;
  lines: string[];
  loadBalancer: boolean;
}

function externalFrontends(route: ServicePortRoute, graph: RoutingGraph): FrontendDrawing[] {
  const proto = route.protocol;
  const frontends: FrontendDrawing[] = [];
  if (route.nodePort !== null) {
    const addresses = graph.node.nodePortAddresses[route.family];
    const where = addresses === null ? 'every local address' : addresses.join(', ');
    frontends.push({ key: `fe nodeport ${route.nodePort} ${proto} ${route.family}`, lines: [`node port ${route.nodePort}`, `${proto} IPv${route.family} on ${where}`], loadBalancer: false });
  }
  for (const ip of route.externalIPs) frontends.push({ key: `fe ${ip} ${route.port} ${proto}`, lines: [hostPort(ip, route.port), `external IP, ${proto}`], loadBalancer: false });
  for (const ip of route.loadBalancerIPs) frontends.push({ key: `fe ${ip} ${route.port} ${proto}`, lines: [hostPort(ip, route.port), `load balancer, ${proto}`], loadBalancer: true });
  return frontends;
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function shortReason(reason: string): string {
  if (reason.startsWith('type ExternalName')) return 'ExternalName (DNS only)';
  if (reason.startsWith('headless')) return 'headless (DNS only)';
  if (reason.startsWith('no clusterIP')) return 'no cluster IP yet';
  return reason;
}
