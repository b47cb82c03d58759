import type { NameCheck } from './names.js';

/** Enough for every distinct label key of a large cluster; a hostile input cannot grow it past this. */
const LIMIT = 4096;

/**
 * A name check that answers a value it has seen from memory. For fields with
 * few distinct values across many objects (label keys: every Pod repeats its
 * Deployment's), a map lookup replaces two regular expressions per object.
 */
export function remembered(check: NameCheck): NameCheck {
  const answers = new Map<string, string | null>();
  return (value) => {
    let answer = answers.get(value);
    if (answer === undefined) {
      answer = check(value);
      if (answers.size < LIMIT) answers.set(value, answer);
    }
    return answer;
  };
}
