/** One iptables table as iptables-restore reads it: chain declarations, then rules. */
export class Table {
  readonly chains: { name: string; policy: string }[] = [];
  readonly rules: string[] = [];
  private readonly declared = new Set<string>();

  constructor(readonly name: 'filter' | 'nat', builtins: string[]) {
    for (const chain of builtins) this.declare(chain, 'ACCEPT');
  }

  declare(chain: string, policy = '-'): void {
    if (this.declared.has(chain)) return;
    this.declared.add(chain);
    this.chains.push({ name: chain, policy });
  }

  /** Appends `-A chain args...`; arguments are already safe tokens. */
  add(chain: string, ...args: string[]): void {
    this.rules.push(`-A ${chain} ${args.join(' ')}`);
  }
}

/** `-m comment --comment TEXT`, quoted as iptables-save prints it (quotes only around text with spaces). */
export function comment(text: string): string {
  return text.includes(' ') ? `-m comment --comment "${text}"` : `-m comment --comment ${text}`;
}
