/** Splits one iptables-save rule into arguments, honouring double quotes as iptables-restore does. */
export function splitArgs(line: string): string[] {
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
