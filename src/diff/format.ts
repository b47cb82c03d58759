import type { Change, DiffReport } from './diff.js';

type Paint = (style: 'green' | 'red' | 'yellow' | 'bold', text: string) => string;

/** SGR codes of the styles diff uses; written here because styleText checks the stream itself on newer Node. */
const SGR: Record<Parameters<Paint>[0], [number, number]> = { green: [32, 39], red: [31, 39], yellow: [33, 39], bold: [1, 22] };

/**
 * Colour on a terminal, none when piped; FORCE_COLOR (any value but 0 or
 * false) forces it and NO_COLOR (any non-empty value) turns it off, FORCE_COLOR
 * winning as in Node itself.
 */
export function painter(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint {
  return useColour(stream, env) ? (style, text) => `\x1b[${SGR[style][0]}m${text}\x1b[${SGR[style][1]}m` : (_style, text) => text;
}

export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  return stream.isTTY === true;
}

const SIGN: Record<Change['kind'], '+' | '-' | '~'> = {
  'frontend-added': '+',
  'frontend-removed': '-',
  'endpoint-added': '+',
  'endpoint-removed': '-',
  'share-changed': '~',
  'verdict-changed': '~',
  'affinity-changed': '~',
  'masquerade-changed': '~',
  'source-ranges-changed': '~',
  'short-circuit-changed': '~',
  'node-traffic-changed': '~',
  'unallocated-drop-changed': '~',
};

const LABEL: Record<Change['kind'], string> = {
  'frontend-added': 'frontend',
  'frontend-removed': 'frontend',
  'endpoint-added': 'endpoint',
  'endpoint-removed': 'endpoint',
  'share-changed': 'share',
  'verdict-changed': 'no-endpoint verdict',
  'affinity-changed': 'affinity',
  'masquerade-changed': 'masquerade',
  'source-ranges-changed': 'source ranges',
  'short-circuit-changed': 'pod and node traffic (policy Local)',
  'node-traffic-changed': "the node's own traffic (policy Local)",
  'unallocated-drop-changed': 'dropped ranges',
};

/** Changes grouped by service port, then by frontend. */
export function formatText(report: DiffReport, paint: Paint): string {
  if (report.same) return '';
  const lines: string[] = [];
  let group = '';
  let frontend = '';
  for (const change of report.changes) {
    if (change.group !== group) {
      group = change.group;
      frontend = '';
      lines.push(paint('bold', group));
    }
    const sign = SIGN[change.kind];
    const style = sign === '+' ? 'green' : sign === '-' ? 'red' : 'yellow';
    if (change.kind === 'frontend-added' || change.kind === 'frontend-removed') {
      lines.push(paint(style, `  ${sign} ${change.frontend} (${change.after ?? change.before})`));
      continue;
    }
    if (change.frontend !== frontend) {
      frontend = change.frontend;
      lines.push(`  ${frontend}`);
    }
    const text = sign === '~' ? `${LABEL[change.kind]}: ${change.before} -> ${change.after}` : `${LABEL[change.kind]} ${change.after ?? change.before}`;
    lines.push(paint(style, `    ${sign} ${text}`));
  }
  return `${lines.join('\n')}\n`;
}

export function formatStat(report: DiffReport): string {
  const count = (kinds: Change['kind'][]) => report.changes.filter((c) => kinds.includes(c.kind)).length;
  const groups = new Set(report.changes.map((c) => c.group)).size;
  return (
    `${groups} service port(s) changed: ` +
    `${count(['frontend-added'])} frontend(s) added, ${count(['frontend-removed'])} removed, ` +
    `${count(['endpoint-added'])} endpoint(s) added, ${count(['endpoint-removed'])} removed, ` +
    `${report.changes.length - count(['frontend-added', 'frontend-removed', 'endpoint-added', 'endpoint-removed'])} other change(s)\n`
  );
}

export function formatJson(report: DiffReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
