import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kpc, tempDir } from '../helpers/cli.js';
import { deployment, service } from './helpers.js';

const dir = tempDir('kpc-simulate-diff-');
const FLAGS = ['--simulate', '--node-name', 'node-a', '--simulate-nodes', '2', '-o', 'json'];

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const web = (replicas: number, port = 80) => deployment('web', replicas, { app: 'web' }) + service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port, targetPort: 'http' }] });

async function changes(a: string, b: string): Promise<{ kind: string; group: string; before: string | null; after: string | null }[]> {
  const run = await kpc(['diff', a, b, ...FLAGS]);
  expect(run.exitCode, run.stderr).toBeLessThan(2);
  return (JSON.parse(run.stdout) as { changes: { kind: string; group: string; before: string | null; after: string | null }[] }).changes;
}

describe('kpc diff --simulate', () => {
  const base = write('base.yaml', web(2));

  it('shows a replicas change as endpoints added or removed, the others kept', async () => {
    const up = await changes(base, write('up.yaml', web(3)));
    expect(up.filter((c) => c.kind === 'endpoint-added')).toHaveLength(1);
    expect(up.filter((c) => c.kind !== 'endpoint-added' && c.kind !== 'share-changed')).toEqual([]);
    const down = await changes(base, write('down.yaml', web(1)));
    expect(down.filter((c) => c.kind === 'endpoint-removed')).toHaveLength(1);
    expect(down.filter((c) => c.kind !== 'endpoint-removed' && c.kind !== 'share-changed')).toEqual([]);
  });

  it('shows a port change as that port going and the new one coming, at the same cluster IP', async () => {
    const moved = await changes(base, write('port.yaml', web(2, 8000)));
    expect(moved.map((c) => c.kind).sort()).toEqual(['frontend-added', 'frontend-removed']);
    const removed = moved.find((c) => c.kind === 'frontend-removed')!.before!;
    const added = moved.find((c) => c.kind === 'frontend-added')!.after!;
    expect(removed.replace(':80 ', ':8000 ')).toBe(added);
  });

  it('shows an unrelated new Service as that Service added and nothing else', async () => {
    const more = await changes(base, write('more.yaml', web(2) + service('other', { type: 'NodePort', selector: { app: 'other' }, ports: [{ port: 81 }] })));
    expect(more.length).toBeGreaterThan(0);
    expect(more.every((c) => c.group === 'default/other' && c.kind === 'frontend-added')).toBe(true);
  });

  it('says nothing changed for the same manifests in another order', async () => {
    const run = await kpc(['diff', base, write('reordered.yaml', service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }) + deployment('web', 2, { app: 'web' })), ...FLAGS]);
    expect(run.exitCode).toBe(0);
  });
});
