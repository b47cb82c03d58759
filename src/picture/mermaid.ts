import type { Arrow, Box, BoxKind, Picture } from './model.js';

/** A Mermaid flowchart (renders on GitHub inside a ```mermaid block). */
export function renderMermaid(picture: Picture): string {
  const lines = ['flowchart LR', `  %% ${picture.title}`];
  for (const box of picture.boxes.filter((b) => b.group === null)) lines.push(`  ${boxLine(box)}`);
  for (const group of picture.groups) {
    lines.push(`  subgraph ${group.id}[${quote(group.label)}]`);
    for (const box of picture.boxes.filter((b) => b.group === group.id)) lines.push(`    ${boxLine(box)}`);
    lines.push('  end');
  }
  for (const arrow of picture.arrows) lines.push(`  ${arrowLine(arrow)}`);
  lines.push(...styles(picture));
  return `${lines.join('\n')}\n`;
}

const SHAPES: Record<BoxKind, [string, string]> = {
  frontend: ['([', '])'],
  'service-port': ['[', ']'],
  endpoint: ['[', ']'],
  verdict: ['{{', '}}'],
  skipped: ['[/', '/]'],
};

function boxLine(box: Box): string {
  const [open, close] = SHAPES[box.kind];
  return `${box.id}${open}${quote(box.lines.filter(Boolean).join('<br/>'))}${close}`;
}

function arrowLine(arrow: Arrow): string {
  const line = arrow.local || arrow.kind === 'short-circuit' ? '-.->' : arrow.kind === 'refused' ? '==>' : '-->';
  return `${arrow.from} ${line}|${quote(arrow.label)}| ${arrow.to}`;
}

function styles(picture: Picture): string[] {
  const fills: Record<BoxKind, string> = { frontend: '#e8f0fe', 'service-port': '#fff4d6', endpoint: '#e6f4ea', verdict: '#fce8e6', skipped: '#f1f3f4' };
  const lines: string[] = [];
  for (const kind of Object.keys(fills) as BoxKind[]) {
    const ids = picture.boxes.filter((b) => b.kind === kind).map((b) => b.id);
    if (ids.length) lines.push(`  classDef ${kind.replace('-', '')} fill:${fills[kind]}`, `  class ${ids.join(',')} ${kind.replace('-', '')}`);
  }
  return lines;
}

/** Mermaid labels in double quotes: a quote becomes #quot;, and | and # cannot end or start an entity. */
function quote(text: string): string {
  return `"${text.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/\|/g, '#124;')}"`;
}
