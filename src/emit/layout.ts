import { template } from './templates.js';

/** Stands for a block in the rendered template: no valid name, address or comment holds a NUL. */
const MARK = '\u0000';

/**
 * Renders a backend's layout template whose large parts are chunk lists: the
 * template places each with `{{block NAME~}}` (whole lines, so `~` drops the
 * template's own newline after it) and the result is the template's text with
 * those chunks spliced in, never copied into one string.
 */
export function renderLayout(backend: string, name: string, data: object): string[] {
  const blocks: (readonly string[])[] = [];
  const block = (chunks: readonly string[]) => {
    if (!Array.isArray(chunks)) throw new Error(`templates/${backend}/${name}.hbs: {{block}} needs a chunk list`);
    blocks.push(chunks);
    return MARK;
  };
  const text = template(backend, name)(data, { helpers: { block } });
  const pieces = text.split(MARK);
  // A mark more than blocks placed means one came from data: refuse rather than splice at the wrong place.
  if (pieces.length !== blocks.length + 1) throw new Error(`templates/${backend}/${name}.hbs: output holds a NUL character`);
  const out: string[] = [];
  pieces.forEach((piece, i) => {
    if (piece !== '') out.push(piece);
    for (const chunk of blocks[i] ?? []) out.push(chunk);
  });
  return out;
}
