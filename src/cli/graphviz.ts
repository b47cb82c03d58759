import { UserError } from './errors.js';

/** Renders DOT text to SVG with Graphviz's `dot`, which kpc does not bundle. */
export async function dotToSvg(dot: string): Promise<string> {
  const { execa } = await import('execa');
  const result = await execa('dot', ['-Tsvg'], { input: dot, reject: false });
  if ((result as { code?: string }).code === 'ENOENT') {
    throw new UserError('--format svg needs Graphviz, and its `dot` program is not on PATH; install graphviz (apt-get install graphviz, brew install graphviz) or use --format dot or mermaid');
  }
  if (result.exitCode !== 0) throw new UserError(`Graphviz dot failed: ${String(result.stderr).trim() || `exit status ${result.exitCode}`}`);
  return `${String(result.stdout).trimEnd()}\n`;
}
