import type { NftTableText } from '../read/nft-text.js';
import type { NodeFacts } from './packet.js';

/** What an nft rule is read against: its table (for named sets and maps) and the node. */
export interface NftRuleContext {
  table: NftTableText;
  node: NodeFacts;
  warn: (message: string) => void;
}

/** Walks a rule's words left to right. */
export class Cursor {
  constructor(
    readonly tokens: string[],
    public at = 0,
  ) {}
  peek(offset = 0): string | undefined {
    return this.tokens[this.at + offset];
  }
  next(): string {
    return this.tokens[this.at++] ?? '';
  }
  done(): boolean {
    return this.at >= this.tokens.length;
  }
  /** `{ a, b . c, ... }` → its elements as text; or one word. */
  values(): string[] {
    if (this.peek() !== '{') return [this.next()];
    this.next();
    const elements: string[] = [];
    let current: string[] = [];
    let depth = 0;
    while (!this.done()) {
      const token = this.next();
      if (token === '{') depth++;
      if (token === '}' && depth-- === 0) break;
      if (token === ',' && depth === 0) {
        elements.push(current.join(' '));
        current = [];
      } else current.push(token);
    }
    if (current.length) elements.push(current.join(' '));
    return elements.filter((e) => e !== '');
  }
}
