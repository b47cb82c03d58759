import { styleText } from 'node:util';
import type { Change, DiffReport } from './diff.js';

type Paint = (style: 'green' | 'red' | 'yellow' | 'bold', text: string) => string;

/** Colour on a terminal; none when piped or when NO_COLOR is set. */
export function painter(stream: NodeJS.WriteStream): Paint {
  const colour = stream.isTTY === true && !process.env.NO_COLOR;
  return colour ? (style, text) => styleText(style, text) : (_style, text) => text;
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
