import type { Frontend, RuleSetModel } from '../read/model.js';

export type ChangeKind =
  | 'frontend-added'
  | 'frontend-removed'
  | 'endpoint-added'
  | 'endpoint-removed'
  | 'share-changed'
  | 'verdict-changed'
  | 'affinity-changed'
  | 'masquerade-changed'
  | 'source-ranges-changed'
  | 'short-circuit-changed'
  | 'node-traffic-changed'
  | 'unallocated-drop-changed';

export interface Change {
  /** The service port (`ns/name:port`), or the frontend's address where the format names no service. */
  group: string;
  /** `IPv4 tcp 10.96.0.10:80` */
  frontend: string;
  kind: ChangeKind;
  before: string | null;
  after: string | null;
}

export interface DiffReport {
  same: boolean;
  changes: Change[];
  /** Rules that belong to neither kpc nor kube-proxy, per side: listed, never compared. */
  foreign: { a: string[]; b: string[] };
}

/** The group of the change that is not about one frontend: which service-CIDR addresses are dropped. */
const UNALLOCATED_GROUP = '(service CIDRs)';

/**
 * Readers give kube-proxy's 1/n and numgen's c/N shares exactly (the same
 * number from every format, the kernel's listing included), so this only
 * absorbs a kernel round trip of probabilities kube-proxy does not write
 * (steps of 2^-31). It is relative: an absolute 0.001 hid one endpoint of a
 * thousand getting twice the traffic (0.1% -> 0.2%).
 */
const SHARE_TOLERANCE = 1e-6;

/** Compares two rule sets by meaning, frontend by frontend. */
export function diffModels(a: RuleSetModel, b: RuleSetModel): DiffReport {
  const changes: Change[] = [];
  const keys = [...new Set([...a.frontends.keys(), ...b.frontends.keys()])].sort();
  for (const key of keys) {
    const before = a.frontends.get(key);
    const after = b.frontends.get(key);
    const group = after?.service ?? before?.service ?? key;
    const add = (kind: ChangeKind, was: string | null, now: string | null) => changes.push({ group, frontend: key, kind, before: was, after: now });
    if (!before) add('frontend-added', null, describe(after!));
    else if (!after) add('frontend-removed', describe(before), null);
    else compareFrontends(before, after, add);
  }
  const dropped = (model: RuleSetModel) => model.unallocatedDrop.join(', ') || 'none';
  if (dropped(a) !== dropped(b)) changes.push({ group: UNALLOCATED_GROUP, frontend: 'addresses no Service holds', kind: 'unallocated-drop-changed', before: dropped(a), after: dropped(b) });
  changes.sort((x, y) => (x.group < y.group ? -1 : x.group > y.group ? 1 : 0));
  return { same: changes.length === 0, changes, foreign: { a: a.foreign, b: b.foreign } };
}

function compareFrontends(a: Frontend, b: Frontend, add: (kind: ChangeKind, was: string | null, now: string | null) => void): void {
  for (const endpoint of Object.keys(b.endpoints).sort()) if (!(endpoint in a.endpoints)) add('endpoint-added', null, endpoint);
  for (const endpoint of Object.keys(a.endpoints).sort()) if (!(endpoint in b.endpoints)) add('endpoint-removed', endpoint, null);
  for (const endpoint of Object.keys(a.endpoints).sort()) {
    const was = a.endpoints[endpoint]!;
    const now = b.endpoints[endpoint];
    if (now === undefined || Math.abs(was - now) <= SHARE_TOLERANCE * Math.max(was, now)) continue;
    const [before, after] = percents(was, now);
    add('share-changed', `${endpoint} ${before}`, `${endpoint} ${after}`);
  }
  if (a.verdict !== b.verdict) add('verdict-changed', a.verdict ?? 'forward', b.verdict ?? 'forward');
  if (a.affinitySeconds !== b.affinitySeconds) add('affinity-changed', seconds(a.affinitySeconds), seconds(b.affinitySeconds));
  if (a.masquerade !== b.masquerade && a.masquerade !== 'unknown' && b.masquerade !== 'unknown') add('masquerade-changed', a.masquerade, b.masquerade);
  if (String(a.sourceRanges) !== String(b.sourceRanges)) add('source-ranges-changed', ranges(a.sourceRanges), ranges(b.sourceRanges));
  if (sharesText(a.shortCircuit) !== sharesText(b.shortCircuit)) add('short-circuit-changed', sharesText(a.shortCircuit), sharesText(b.shortCircuit));
  if (a.nodeMeetsVerdict !== b.nodeMeetsVerdict) add('node-traffic-changed', nodeTraffic(a), nodeTraffic(b));
}

function describe(frontend: Frontend): string {
  if (frontend.verdict && Object.keys(frontend.endpoints).length === 0) return frontend.verdict;
  return `${Object.keys(frontend.endpoints).length} endpoint(s)`;
}

/** Two shares as percentages with one decimal, or as many more as it takes to tell them apart (0.1% -> 0.0999%). */
function percents(a: number, b: number): [string, string] {
  for (let digits = 1; ; digits++) {
    const [x, y] = [(a * 100).toFixed(digits), (b * 100).toFixed(digits)];
    if (x !== y || digits >= 8) return [`${x}%`, `${y}%`];
  }
}

function seconds(value: number | null): string {
  return value === null ? 'none' : `ClientIP ${value}s`;
}

function ranges(value: string[] | null): string {
  return value === null ? 'any source' : value.join(', ');
}

function nodeTraffic(frontend: Frontend): string {
  return frontend.nodeMeetsVerdict ? `${frontend.verdict}` : frontend.shortCircuit ? 'short-circuited' : frontend.verdict ?? 'forward';
}

function sharesText(shares: Record<string, number> | null): string {
  return shares === null ? 'none' : Object.keys(shares).sort().join(', ') || 'no endpoints';
}
