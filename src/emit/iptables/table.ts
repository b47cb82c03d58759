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
  private readonly declared = new Set<string>();

  constructor(readonly name: 'filter' | 'nat', builtins: string[]) {
    for (const chain of builtins) this.declare(chain, 'ACCEPT');
  }

  declare(chain: string, policy = '-'): void {
    if (this.declared.has(chain)) return;
    this.declared.add(chain);
    this.chains.line(`:${chain} ${policy} [0:0]`);
  }

  /** Appends `-A chain args...`; arguments are already safe tokens. */
  add(chain: string, ...args: string[]): void {
    this.rules.line(`-A ${chain} ${args.join(' ')}`);
  }

  /** What the restore template lays out. */
  layout(): { name: string; chains: Buffer[]; rules: Buffer[] } {
    return { name: this.name, chains: this.chains.chunks(), rules: this.rules.chunks() };
  }
}

/** `-m comment --comment TEXT`, quoted as iptables-save prints it (quotes only around text with spaces). */
export function comment(text: string): string {
  return text.includes(' ') ? `-m comment --comment "${text}"` : `-m comment --comment ${text}`;
}
