import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, expectNoStackTrace, kpc, tempDir } from '../helpers/cli.js';

/** `kpc graph` as a user runs it: formats, -o, exit statuses, and a missing Graphviz. */

const dir = tempDir('kpc-graph-');
const SHOP = ['-f', 'examples/shop', '--node-name', 'node-a', '--node-ip', '192.0.2.10', '--cluster-cidr', '10.244.0.0/16'];
const graph = (...args: string[]) => kpc(['graph', ...SHOP, ...args]);

describe('kpc graph', () => {
  it('prints DOT by default, and Mermaid or JSON when asked (-o FORMAT or --format)', async () => {
    const dot = await graph();
    expect(dot.exitCode, dot.stderr).toBe(0);
    expect(dot.stdout).toMatch(/^digraph kpc \{\n/);
    const mermaid = await graph('-o', 'mermaid');
    expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
    const json = JSON.parse((await graph('--format', 'json')).stdout);
    expect(json.boxes.filter((b: { kind: string }) => b.kind === 'service-port').map((b: { lines: string[] }) => b.lines[0])).toEqual(['shop/api:http', 'shop/cache', 'shop/dns:dns-tcp', 'shop/dns:dns', 'shop/web:http']);
  });

  it('-o FILE writes the file atomically and prints nothing', async () => {
    const file = join(dir, 'shop.mmd');
    const run = await graph('--format', 'mermaid', '-o', file);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe((await graph('-o', 'mermaid')).stdout);
  });

  it('--format svg runs Graphviz, and says how to get it when it is missing', async () => {
    const installed = (await execa('dot', ['-V'], { reject: false })).exitCode === 0;
    if (installed) {
      const svg = await graph('--format', 'svg');
      expect(svg.exitCode, svg.stderr).toBe(0);
      expect(svg.stdout).toContain('<svg');
    }
    const noDot = await execa(process.execPath, [BIN, 'graph', ...SHOP, '--format', 'svg'], { reject: false, env: { PATH: '/nonexistent', KPC_DEBUG: '' }, extendEnv: false, stdin: 'ignore' });
    expect(noDot.exitCode).toBe(1);
    expect(noDot.stderr).toMatch(/--format svg needs Graphviz.*apt-get install graphviz.*--format dot or mermaid/);
    expectNoStackTrace({ exitCode: noDot.exitCode ?? -1, stdout: String(noDot.stdout), stderr: String(noDot.stderr) });
  });

  it('usage errors exit 2; bad input exits 1', async () => {
    const format = await graph('--format', 'png');
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toMatch(/--format "png": use dot, mermaid, json, svg/);
    const noFile = await kpc(['graph']);
    expect(noFile.exitCode).toBe(2);
    const missing = await kpc(['graph', '-f', join(dir, 'missing.yaml')]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/missing\.yaml: no such file or folder/);
    for (const run of [format, noFile, missing]) expectNoStackTrace(run);
  });
});
