#!/usr/bin/env node
// Writes man/kpc.1 from `kpc manual` (the commands, flags and help texts as
// registered), after the bundle is built; npm installs it for `man kpc`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const page = execFileSync(process.execPath, [join(ROOT, 'bin', 'kpc'), 'manual'], { encoding: 'utf8' });
mkdirSync(join(ROOT, 'man'), { recursive: true });
writeFileSync(join(ROOT, 'man', 'kpc.1.tmp'), page);
renameSync(join(ROOT, 'man', 'kpc.1.tmp'), join(ROOT, 'man', 'kpc.1'));
