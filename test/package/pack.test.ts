import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kpc, ROOT } from '../helpers/cli.js';

/**
 * The package as a user gets it: packed, installed from the tarball into an
 * empty prefix with the registry out of reach, and run from another folder.
 * Everything kpc needs at run time is bundled into dist/kpc.mjs, so nothing
 * may need downloading.
 */
const work = mkdtempSync(join(tmpdir(), 'kpc-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const NO_NETWORK = { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, env: NO_NETWORK, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('the npm package', () => {
  // dist/ is built by the test setup; packing again with scripts would rebuild it. The man page is made from the bundle.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'write-manual.mjs')]);
  const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as { filename: string; size: number; files: { path: string }[] }[];
  const tarball = join(work, packed!.filename);
  const files = packed!.files.map((f) => f.path).sort();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('holds the bundle, the example, the licence and the README, and no source maps or sources', () => {
    expect(files).toContain('dist/kpc.mjs');
    expect(files).toContain('bin/kpc');
    expect(files).toContain('LICENSE');
    expect(files).toContain('man/kpc.1');
    expect(files).toContain('README.md');
    expect(files.some((f) => f.startsWith('examples/shop/'))).toBe(true);
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || (f.startsWith('dist/') && f !== 'dist/kpc.mjs'))).toEqual([]);
    // Every dependency is bundled, so an install pulls nothing else.
    expect(pkg.dependencies ?? {}).toEqual({});
    console.log(`[pack] ${packed!.filename}: ${(statSync(tarball).size / 1024).toFixed(0)} kB packed, ${files.length} files`);
  });

  it('installs from the tarball with no network and runs the packaged example from another folder', async () => {
    const prefix = join(work, 'prefix');
    npm(['install', '--global', '--prefix', prefix, '--offline', tarball], work);
    const installed = join(prefix, 'bin', 'kpc');
    const example = join(prefix, 'lib', 'node_modules', pkg.name, 'examples', 'shop');
    const args = ['generate', '-f', example, '--mode', 'nftables', '--node-name', 'node-a', '--node-ip', '192.0.2.10', '--cluster-cidr', '10.244.0.0/16'];
    const output = execFileSync(installed, args, { cwd: tmpdir(), encoding: 'utf8' });
    const reference = await kpc([...args.slice(0, 2), join(ROOT, 'examples', 'shop'), ...args.slice(3)]);
    expect(reference.exitCode).toBe(0);
    expect(output).toBe(reference.stdout);
    expect(execFileSync(installed, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
    expect(readFileSync(join(example, '..', '..', 'man', 'kpc.1'), 'utf8')).toMatch(/^\.TH KPC 1/);
  });
});
