import { describe, expect, it } from 'vitest';
import { differingLines, Items } from '../../src/apply/items.js';

const lines = (run: string) => run.split('\n').map((line) => line.trim());
const items = (...parts: (string | string[])[]) => {
  const out = new Items(lines);
  for (const part of parts) {
    if (typeof part === 'string') out.addRun(part);
    else for (const item of part) out.add(item);
  }
  return out;
};

describe('Items', () => {
  it('lists runs and items read already, in order', () => {
    expect(items('a\nb', ['c'], 'd ').list()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('equal runs are equal; a change inside a run is not', () => {
    expect(items('a\nb\nc').equals(items('a\nb\nc'))).toBe(true);
    expect(items('a\nb\nc').equals(items('a\nB\nc'))).toBe(false);
    expect(items('a\nb').equals(items('a\nb\nc'))).toBe(false);
  });

  it('the same items cut into runs differently, or written differently, are equal', () => {
    expect(items('a\nb', 'c').equals(items('a', ['b'], 'c'))).toBe(true);
    expect(items('a \nb').equals(items('a\nb'))).toBe(true);
    expect(items(['a', 'b']).equals(items('a', 'b'))).toBe(true);
  });

  it('an item added after listing is listed', () => {
    const list = items('a');
    expect(list.list()).toEqual(['a']);
    list.add('b');
    list.addRun('c');
    expect(list.list()).toEqual(['a', 'b', 'c']);
  });
});

describe('differingLines', () => {
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const line = () => ['10.0.0.1,', '10.0.0.2,', '10.0.0.12,', '', 'x', '10.0.0.1'][Math.floor(random() * 6)]!;

  it('splits both texts into a common head and tail of whole lines around their middles', () => {
    for (let round = 0; round < 2000; round++) {
      const a = Array.from({ length: Math.floor(random() * 12) }, line);
      const b = [...a];
      for (let k = Math.floor(random() * 4); k > 0; k--) {
        const at = Math.floor(random() * (b.length + 1));
        if (random() < 0.5) b.splice(at, 1);
        else b.splice(at, 0, line());
      }
      const [x, y] = [a.join('\n'), b.join('\n')];
      const [mx, my] = differingLines(x, y);
      const [fx, fy] = [`${x}\n`, `${y}\n`];
      const head = fx.indexOf(mx) >= 0 ? commonHead(fx, fy, mx, my) : -1;
      expect(head, JSON.stringify({ x, y, mx, my })).toBeGreaterThanOrEqual(0);
      const tail = fx.length - head - mx.length;
      expect(fy.length - head - my.length).toBe(tail);
      expect(fx.slice(0, head)).toBe(fy.slice(0, head));
      expect(fx.slice(fx.length - tail)).toBe(fy.slice(fy.length - tail));
      for (const part of [mx, my]) expect(part === '' || part.endsWith('\n')).toBe(true);
      for (const [text, at] of [[fx, head], [fy, head], [fx, fx.length - tail], [fy, fy.length - tail]] as const) expect(at === 0 || text[at - 1] === '\n').toBe(true);
      if (x === y) expect([mx, my]).toEqual(['', '']);
    }
  });

  it('one changed line of 100,000: the middles are that line', () => {
    const a = Array.from({ length: 100_000 }, (_, i) => `\t10.${i >> 16}.${(i >> 8) & 255}.${i & 255} . tcp . 80 : 10.244.0.1 . 80,`);
    const b = [...a];
    b[54_321] = '\t10.9.9.9 . tcp . 80 : 10.244.0.2 . 80,';
    expect(differingLines(a.join('\n'), b.join('\n'))).toEqual([`${a[54_321]}\n`, `${b[54_321]}\n`]);
  });
});

/** A common head's length after which the middles start, at a line start, with a common tail after them that starts a line (or -1 when there is none). */
function commonHead(x: string, y: string, mx: string, my: string): number {
  const lineStart = (text: string, at: number) => at === 0 || text[at - 1] === '\n';
  for (let head = 0; head <= Math.min(x.length, y.length); head++) {
    const [tx, ty] = [head + mx.length, head + my.length];
    if (x.startsWith(mx, head) && y.startsWith(my, head) && x.slice(0, head) === y.slice(0, head) && x.slice(tx) === y.slice(ty) && lineStart(x, head) && lineStart(x, tx) && lineStart(y, ty)) return head;
  }
  return -1;
}
