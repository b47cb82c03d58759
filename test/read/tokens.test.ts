import { describe, expect, it } from 'vitest';
import { splitArgs } from '../../src/read/tokens.js';
import { random } from '../helpers/random.js';

/** The rule as iptables-restore splits it, one character at a time: the reference the sliced version must match. */
function reference(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let quoted = false;
  let pending = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && quoted && line[i + 1] === '"') {
      current += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      pending = true;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (pending || current) args.push(current);
      current = '';
      pending = false;
    } else current += c;
  }
  if (pending || current) args.push(current);
  return args;
}

describe('splitArgs', () => {
  it('splits a kube-proxy rule, keeping a quoted comment whole', () => {
    expect(splitArgs('-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -d 10.96.0.10/32 -j KUBE-SVC-X')).toEqual([
      '-A', 'KUBE-SERVICES', '-m', 'comment', '--comment', 'default/web:http cluster IP', '-d', '10.96.0.10/32', '-j', 'KUBE-SVC-X',
    ]);
    expect(splitArgs('--comment "a \\"b\\" c" ""')).toEqual(['--comment', 'a "b" c', '']);
  });

  it('splits as the character-by-character reference does, on random text of quotes, escapes and blanks', () => {
    const next = random(9);
    const alphabet = ['a', 'b', ' ', '\t', '"', '\\', '-'];
    for (let k = 0; k < 20000; k++) {
      const line = Array.from({ length: Math.floor(next() * 12) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      expect(splitArgs(line), JSON.stringify(line)).toEqual(reference(line));
    }
  });
});
