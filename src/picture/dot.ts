import type { Arrow, Box, BoxKind, Picture } from './model.js';

/** Graphviz DOT: left to right, one cluster per node for its endpoints. */
export function renderDot(picture: Picture): string {
  const lines = [
    'digraph kpc {',
    '  rankdir=LR;',
    `  label=${quote(picture.title)}; labelloc=t; fontname="Helvetica";`,
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const box of picture.boxes.filter((b) => b.group === null)) lines.push(`  ${boxLine(box)}`);
  for (const group of picture.groups) {
    lines.push(`  subgraph cluster_${group.id} {`, `    label=${quote(group.label)}; style=rounded; color=gray50;`);
    for (const box of picture.boxes.filter((b) => b.group === group.id)) lines.push(`    ${boxLine(box)}`);
    lines.push('  }');
  }
  for (const arrow of picture.arrows) lines.push(`  ${arrowLine(arrow)}`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const SHAPES: Record<BoxKind, string> = {
  frontend: 'shape=box, style="rounded,filled", fillcolor="#e8f0fe"',
  'service-port': 'shape=box, style="filled,bold", fillcolor="#fff4d6"',
  endpoint: 'shape=box, style=filled, fillcolor="#e6f4ea"',
  verdict: 'shape=octagon, style=filled, fillcolor="#fce8e6"',
  skipped: 'shape=note, style=filled, fillcolor="#f1f3f4"',
};

function boxLine(box: Box): string {
  return `${box.id} [label=${quote(box.lines.filter(Boolean).join('\n'))}, ${SHAPES[box.kind]}];`;
}

function arrowLine(arrow: Arrow): string {
  const style = arrow.kind === 'refused' ? ', color="#c5221f", fontcolor="#c5221f"' : arrow.local ? ', style=dashed' : arrow.kind === 'short-circuit' ? ', style=dotted' : '';
  return `${arrow.from} -> ${arrow.to} [label=${quote(arrow.label)}${style}];`;
}

/** A DOT string: quotes and backslashes escaped, newlines as \n line breaks. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
