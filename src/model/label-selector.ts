/**
 * Label selectors as kubectl's -l takes them: requirements separated by
 * commas, each `key=value`, `key==value`, `key!=value`, `key in (a,b)`,
 * `key notin (a,b)`, `key` (exists) or `!key` (does not exist); all must hold.
 */
export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'doesnotexist' };

export type LabelSelector = Requirement[];

const KEY = '[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?';
const VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s+\\(([^()]*)\\)$`);
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);

/** Parses a selector; throws an Error whose message says what is wrong, for a usage error. */
export function parseLabelSelector(text: string): LabelSelector {
  return splitRequirements(text).map((part) => {
    const equality = EQUALITY.exec(part);
    if (equality) {
      const value = equality[4] ?? '';
      return { key: equality[1]!, op: equality[3] === '!=' ? 'notin' : 'in', values: [value] };
    }
    const set = SET.exec(part);
    if (set) {
      const values = set[4]!.split(',').map((v) => v.trim());
      if (values.some((v) => !new RegExp(`^${VALUE}$`).test(v))) throw new Error(`${JSON.stringify(part)}: a value in the list is not a label value`);
      return { key: set[1]!, op: set[3] as 'in' | 'notin', values };
    }
    const exists = EXISTS.exec(part);
    if (exists) return { key: exists[2]!, op: exists[1] ? 'doesnotexist' : 'exists' };
    throw new Error(`${JSON.stringify(part)} is not a requirement such as app=web, tier!=db, env in (a,b), team or !team`);
  });
}

/** Commas inside `( )` belong to a set's values. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === ',' && depth === 0) || i === text.length) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (parts.some((p) => p === '')) throw new Error(`${JSON.stringify(text)} has an empty requirement`);
  return parts;
}

export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  return selector.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]!);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]!);
    }
  });
}
