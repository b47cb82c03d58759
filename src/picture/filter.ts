import type { RoutingGraph } from '../graph/types.js';
import { matchesSelector, type LabelSelector } from '../model/label-selector.js';

/** Which Services a picture shows; every given criterion must hold. */
export interface PictureFilter {
  /** Namespaces to show; empty: all. */
  namespaces: string[];
  /** Services to show, as `namespace/name` or `name` (in any namespace); empty: all. */
  services: string[];
  /** A label selector on the Services' own labels, or null. */
  selector: LabelSelector | null;
}

/**
 * The part of the graph a filter keeps: its service ports and skipped
 * Services. `labelsOf` gives a Service's labels by `namespace/name` (the
 * graph itself does not carry them: no rule depends on them).
 */
export function filterGraph(graph: RoutingGraph, filter: PictureFilter, labelsOf: (id: string) => Record<string, string>): RoutingGraph {
  const keep = (namespace: string, name: string) =>
    (filter.namespaces.length === 0 || filter.namespaces.includes(namespace)) &&
    (filter.services.length === 0 || filter.services.includes(`${namespace}/${name}`) || filter.services.includes(name)) &&
    (filter.selector === null || matchesSelector(filter.selector, labelsOf(`${namespace}/${name}`)));
  return {
    ...graph,
    servicePorts: graph.servicePorts.filter((route) => keep(route.namespace, route.name)),
    skipped: graph.skipped.filter((s) => keep(s.namespace, s.name)),
  };
}

export function isEmptyFilter(filter: PictureFilter): boolean {
  return filter.namespaces.length === 0 && filter.services.length === 0 && filter.selector === null;
}
