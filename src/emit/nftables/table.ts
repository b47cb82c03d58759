import { assertCommentText } from '../safe-text.js';
import { TextBlock } from '../text-block.js';

export type NftFamily = 'ip' | 'ip6';

export interface BaseChain {
  name: string;
  type: 'filter' | 'nat';
  hook: string;
  priority: string;
}

interface Container {
  name: string;
  /** Created on the first element: most sets (per-endpoint affinity sets) never get one. */
  elements: TextBlock | null;
}

/**
 * One `table <family> kube-proxy`, each kind of object already laid out as
 * `nft -f` lines; the template (templates/nftables/ruleset.hbs) orders the
 * blocks so that every chain, set and map is declared before any rule or
 * element refers to it, as `nft -f` requires.
 */
export class NftTable {
  readonly baseChains: BaseChain[] = [];
  /** `add chain` for every regular chain, in first-declared order. */
  readonly chains = new TextBlock();
  /** `add set` / `add map`, in declaration order. */
  readonly containers = new TextBlock();
  /** `add rule`, in the order added. */
  readonly rules = new TextBlock();
  private readonly containerList: Container[] = [];
  private readonly byName = new Map<string, Container>();
  private readonly prefix: { chain: string; rule: string };

  constructor(readonly family: NftFamily) {
    this.prefix = { chain: `add chain ${family} kube-proxy `, rule: `add rule ${family} kube-proxy ` };
  }

  base(chain: BaseChain): void {
    this.baseChains.push(chain);
  }

  /**
   * Declares a regular chain. Callers declare each chain once (a service
   * port's chains are its own, named by hash); test/emit/chain-declarations.test.ts
   * checks whole rule sets for a repeat. A set of names to skip repeats cost
   * a tenth of emit's time at 10k services.
   */
  chain(name: string, comment: string | null = null): void {
    this.chains.line(comment === null ? `${this.prefix.chain}${name}` : `${this.prefix.chain}${name} { comment "${assertCommentText(comment)}" ; }`);
  }

  /** A set or map; `spec` is the text inside the braces: type, flags, timeout, comment. */
  container(kind: 'set' | 'map', name: string, spec: string): void {
    const container = { name, elements: null };
    this.containerList.push(container);
    this.byName.set(name, container);
    this.containers.line(`add ${kind} ${this.family} kube-proxy ${name} { ${spec} }`);
  }

  element(container: string, text: string): void {
    const target = this.byName.get(container)!;
    (target.elements ??= new TextBlock()).line(`\t${text},`);
  }

  rule(chain: string, text: string, comment: string | null = null): void {
    this.rules.line(`${this.prefix.rule}${chain} ${text}${comment === null ? '' : ` comment "${assertCommentText(comment)}"`}`);
  }

  /** What the ruleset template lays out. */
  layout(): { family: NftFamily; baseChains: BaseChain[]; chains: string[]; containers: string[]; rules: string[]; filled: { name: string; elements: string[] }[] } {
    const filled = this.containerList.flatMap(({ name, elements }) => (elements === null ? [] : [{ name, elements: elements.chunks() }]));
    return { family: this.family, baseChains: this.baseChains, chains: this.chains.chunks(), containers: this.containers.chunks(), rules: this.rules.chunks(), filled };
  }
}

/** A set or map element's key with its comment, as knftables writes it. */
export function keyWithComment(key: string, comment: string): string {
  return `${key} comment "${assertCommentText(fitComment(comment))}"`;
}

/** nft refuses a comment over 128 characters ("comment too long"). */
export const NFT_COMMENT_MAX = 128;

/**
 * A service port name (`namespace/name:port`) can be 143 characters (63, 63
 * and 15), and then the file would not load: past nft's limit the port name
 * goes, leaving the Service (127 at most), which is what readers need.
 */
export function fitComment(comment: string): string {
  if (comment.length <= NFT_COMMENT_MAX) return comment;
  const colon = comment.lastIndexOf(':');
  const service = colon > 0 ? comment.slice(0, colon) : comment;
  return service.length <= NFT_COMMENT_MAX ? service : service.slice(0, NFT_COMMENT_MAX);
}
