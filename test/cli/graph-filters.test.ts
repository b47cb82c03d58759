import { describe, expect, it } from 'vitest';
import { kpc } from '../helpers/cli.js';
import { generateCluster } from '../../bench/generate-cluster.js';

const SHOP = ['-f', 'examples/shop', '--node-name', 'node-a', '--format', 'json'];
const services = (stdout: string) => [...new Set((JSON.parse(stdout).boxes as { kind: string; lines: string[] }[]).filter((b) => b.kind === 'service-port').map((b) => b.lines[0]!.split(':')[0]))].sort();

describe('kpc graph filters and bound', () => {
  it('draws only the Services asked for, by name, namespace or label', async () => {
    const all = services((await kpc(['graph', ...SHOP])).stdout);
    expect(all.length).toBeGreaterThan(2);
    expect(services((await kpc(['graph', ...SHOP, '--service', 'web'])).stdout)).toEqual(['shop/web']);
    expect(services((await kpc(['graph', ...SHOP, '--service', 'shop/web', '--service', 'shop/api'])).stdout)).toEqual(['shop/api', 'shop/web']);
    expect(services((await kpc(['graph', ...SHOP, '--in-namespace', 'other'])).stdout)).toEqual([]);
    const labelled = `apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: x, labels: { tier: front } }\nspec: { clusterIP: 10.96.0.1, ports: [{ port: 80 }] }\n---\napiVersion: v1\nkind: Service\nmetadata: { name: b, namespace: x }\nspec: { clusterIP: 10.96.0.2, ports: [{ port: 80 }] }\n`;
    const run = await kpc(['graph', '-f', '-', '--format', 'json', '-l', 'tier=front'], { input: labelled });
    expect(services(run.stdout)).toEqual(['x/a']);
  });

  it('refuses an SVG too large for Graphviz at once, saying how large and what to do', async () => {
    const cluster = generateCluster({ servicePorts: 60, seed: 2 });
    const run = await kpc(['graph', '-f', '-', '--format', 'svg', '--max-boxes', '100'], { input: cluster.text });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/the picture would have \d+ boxes \(60 service ports\); pick a part with --in-namespace, --service or -l, or raise --max-boxes/);
    const dot = await kpc(['graph', '-f', '-', '--format', 'dot', '--max-boxes', '100'], { input: cluster.text });
    expect(dot.exitCode).toBe(0);
    expect(dot.stderr).toMatch(/warning: the picture would have/);
  });

  it('reads -o FORMAT for one more release, with a deprecation warning', async () => {
    const run = await kpc(['graph', '-f', 'examples/shop', '-o', 'mermaid']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^flowchart LR/);
    expect(run.stderr).toMatch(/-o mermaid is deprecated: use --format mermaid/);
  });
});
