/**
 * The routing graph as a picture: boxes and arrows, independent of how they
 * are drawn. DOT, Mermaid and JSON output all render this one model, so the
 * formats cannot disagree about what is shown.
 */

export type BoxKind = 'frontend' | 'service-port' | 'endpoint' | 'verdict' | 'skipped';

export interface Box {
  /** Stable within one picture: n1, n2, ... in the order boxes are first met. */
  id: string;
  kind: BoxKind;
  /** Lines of text, first line the name. */
  lines: string[];
  /** The group (a node's endpoints, services without rules) or null. */
  group: string | null;
}

export interface Group {
  id: string;
  label: string;
}

/**
 * internal: cluster-IP traffic; external: node ports, external and load-balancer
 * IPs; short-circuit: pods' and the node's own traffic under externalTrafficPolicy
 * Local; refused: into a REJECT or DROP box.
 */
export type ArrowKind = 'frontend' | 'internal' | 'external' | 'short-circuit' | 'refused';

export interface Arrow {
  from: string;
  to: string;
  label: string;
  kind: ArrowKind;
  /** Drawn dashed: traffic policy Local (only this node's endpoints). */
  local: boolean;
}

export interface Picture {
  title: string;
  groups: Group[];
  boxes: Box[];
  arrows: Arrow[];
}
