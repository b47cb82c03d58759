import { assertCommentText } from '../safe-text.js';

export type NftFamily = 'ip' | 'ip6';

export interface BaseChain {
  name: string;
  type: 'filter' | 'nat';
  hook: string;
  priority: string;
}

export interface Container {
  kind: 'set' | 'map';
  name: string;
  /** The text inside the braces: type, flags, timeout, comment. */
  spec: string;
  elements: string[];
}

/**
 * One `table <family> kube-proxy` as a list of objects; the template lays it
 * out so that every chain, set and map is declared before any rule or element
 * refers to it, as `nft -f` requires.
 */
export class NftTable {
  readonly baseChains: BaseChain[] = [];
  readonly chains: { name: string; comment: string | null }[] = [];
  readonly containers: Container[] = [];
  readonly rules: string[] = [];
  private readonly declared = new Set<string>();
  private readonly byName = new Map<string, Container>();

  constructor(readonly family: NftFamily) {}

  base(chain: BaseChain): void {
    this.baseChains.push(chain);
    this.declared.add(chain.name);
  }

  chain(name: string, comment: string | null = null): void {
    if (this.declared.has(name)) return;
    this.declared.add(name);
    this.chains.push({ name, comment: comment === null ? null : assertCommentText(comment) });
  }

  container(kind: Container['kind'], name: string, spec: string): void {
    const container = { kind, name, spec, elements: [] };
    this.containers.push(container);
    this.byName.set(name, container);
  }

  element(container: string, text: string): void {
    this.byName.get(container)!.elements.push(text);
  }

  rule(chain: string, text: string, comment: string | null = null): void {
    this.rules.push(`${chain} ${text}${comment === null ? '' : ` comment "${assertCommentText(comment)}"`}`);
  }
}

/** A set or map element's key with its comment, as knftables writes it. */
export function keyWithComment(key: string, comment: string): string {
  return `${key} comment "${assertCommentText(comment)}"`;
}
