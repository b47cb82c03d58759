const QUOTE = 34;
const BACKSLASH = 92;
const SPACE = 32;
const TAB = 9;

/**
 * Splits one iptables-save rule into arguments, honouring double quotes as
 * iptables-restore does (`\"` inside quotes is a quote). Arguments are sliced
 * out of the line rather than built a character at a time: a 10,000-service
 * rule set has some 400,000 lines.
 */
export function splitArgs(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let quoted = false;
  let pending = false;
  let run = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (quoted) {
      if (c === BACKSLASH && line.charCodeAt(i + 1) === QUOTE) {
        current += `${line.slice(run, i)}"`;
        run = ++i + 1;
      } else if (c === QUOTE) {
        current += line.slice(run, i);
        quoted = false;
        run = i + 1;
      }
    } else if (c === QUOTE) {
      current += line.slice(run, i);
      quoted = true;
      pending = true;
      run = i + 1;
    } else if (c === SPACE || c === TAB) {
      current += line.slice(run, i);
      if (pending || current) args.push(current);
      current = '';
      pending = false;
      run = i + 1;
    }
  }
  current += line.slice(run);
  if (pending || current) args.push(current);
  return args;
}
