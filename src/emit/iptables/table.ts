import { TextBlock } from '../text-block.js';

/**
 * One iptables table as iptables-restore reads it: chain declarations, then
 * rules, each already laid out as lines (see templates/iptables/restore.hbs).
 */
export class Table {
  /** `:CHAIN POLICY [0:0]`, in first-declared order. */
  readonly chains = new TextBlock();
  /** `-A CHAIN ...`, in the order added. */
  readonly rules = new TextBlock();

  constructor(readonly name: 'filter' | 'nat', builtins: string[]) {
    for (const chain of builtins) this.declare(chain, 'ACCEPT');
  }

  /**
   * Declares a chain. Callers declare each chain once (a service port's
   * chains are its own, named by hash); test/emit/chain-declarations.test.ts
   * checks whole rule sets for a repeat. A set of names to skip repeats cost
   * a tenth of emit's time at 10k services, for a case that does not occur.
   */
  declare(chain: string, policy = '-'): void {
    this.chains.line(`:${chain} ${policy} [0:0]`);
  }

  /** Appends `-A chain args...`; arguments are already safe tokens. */
  add(chain: string, ...args: string[]): void {
    this.rules.line(`-A ${chain} ${args.join(' ')}`);
  }

  /** What the restore template lays out. */
  layout(): { name: string; chains: string[]; rules: string[] } {
    return { name: this.name, chains: this.chains.chunks(), rules: this.rules.chunks() };
  }
}

/** `-m comment --comment TEXT`, quoted as iptables-save prints it (quotes only around text with spaces). */
export function comment(text: string): string {
  return text.includes(' ') ? `-m comment --comment "${text}"` : `-m comment --comment ${text}`;
}
