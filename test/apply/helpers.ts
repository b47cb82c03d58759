import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import { netnsTarget, type Target } from '../../src/apply/index.js';
import { compileGraph } from '../../src/compile.js';
import type { RoutingGraph } from '../../src/graph/types.js';
import { toYaml } from '../kernel/manifests.js';

export const NODE_IP = '192.0.2.10';

/** Compiles manifests for the harness's node ("node", 192.0.2.10, pods in 10.244.0.0/16). */
export function compile(objects: object[], extra: { nodeIPs?: string[]; clusterCIDRs?: string[] } = {}): RoutingGraph {
  return compileGraph([{ name: 'apply-test.yaml', text: toYaml(objects) }], {
    nodeName: 'node',
    nodeIPs: extra.nodeIPs ?? [NODE_IP],
    clusterCIDRs: extra.clusterCIDRs ?? ['10.244.0.0/16'],
  }).graph;
}

/** A fresh run folder (lock, record, rule files) per suite, never /run/kpc; made on first use, so a skipped suite leaves none. */
export function runDir(): { readonly path: string; remove(): void } {
  let path: string | undefined;
  return {
    get path() {
      return (path ??= mkdtempSync(join(tmpdir(), 'kpc-apply-')));
    },
    remove: () => {
      if (path) rmSync(path, { recursive: true, force: true });
    },
  };
}

export async function sh(netns: string, argv: string[], input?: string): Promise<string> {
  const result = await execa('ip', ['netns', 'exec', netns, ...argv], { reject: false, ...(input === undefined ? {} : { input }) });
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} in ${netns}: exit ${result.exitCode}: ${String(result.stderr)}`);
  return String(result.stdout);
}

/** Without comment lines and counters: two dumps of the same rules are byte-identical. */
export function clean(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n');
}

const XTABLES = /^table (ip|ip6) (filter|nat|mangle|raw|security)$/;

/**
 * Everything apply could touch in a namespace: both iptables families (as
 * iptables-save prints them), every other nft table, every ipset. The nft
 * tables iptables-nft keeps are read with iptables-save only: nft lists their
 * chains in creation order, which a rollback that re-creates a chain changes
 * without changing a rule.
 */
export async function fullDump(netns: string): Promise<string> {
  const tables = (await sh(netns, ['nft', 'list', 'tables'])).split('\n').filter((t) => t && !XTABLES.test(t));
  const parts = await Promise.all([
    sh(netns, ['iptables-save']),
    sh(netns, ['ip6tables-save']),
    ...tables.map((t) => sh(netns, ['nft', 'list', ...t.split(' ')])),
    sh(netns, ['ipset', 'save']).catch(() => ''),
  ]);
  return parts.map(clean).join('\n=====\n');
}

let counter = 0;

/** A bare namespace named so the harness's sweep recognizes it (kpc-PID-N-probe). */
export async function bareNetns(): Promise<{ name: string; target: Target; remove(): Promise<void> }> {
  const name = `kpc-${process.pid}-${9000 + ++counter}-probe`;
  await execa('ip', ['netns', 'add', name]);
  return { name, target: netnsTarget(name), remove: async () => void (await execa('ip', ['netns', 'del', name], { reject: false })) };
}

/**
 * Small node programs run inside a namespace for as long as a test needs
 * them, tracked by PID and stopped by PID (never by name).
 */
export class Programs {
  private readonly running: ResultPromise[] = [];

  start(netns: string, script: string, args: string[] = []): { child: ResultPromise; lines: AsyncIterator<string>; send(line: string): void } {
    const child = execa('ip', ['netns', 'exec', netns, process.execPath, '-e', script, ...args], { stdin: 'pipe', reject: false, buffer: false });
    this.running.push(child);
    const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    return { child, lines, send: (line) => child.stdin!.write(line + '\n') };
  }

  async stopAll(): Promise<void> {
    for (const child of this.running) {
      child.stdin?.end();
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
    }
    await Promise.all(this.running.map((c) => c.catch(() => undefined)));
    this.running.length = 0;
  }
}

/** Next line, or 'timeout' after ms. */
export async function nextLine(lines: AsyncIterator<string>, ms = 5000): Promise<string> {
  const timer = new Promise<string>((resolve) => setTimeout(resolve, ms, 'timeout'));
  const next = lines.next().then((r) => (r.done ? 'closed' : r.value));
  return Promise.race([next, timer]);
}

/** A TCP server that keeps every connection open and echoes what it gets. */
export const HOLD_SERVER = `
const net = require('net');
const port = Number(process.argv[1]);
net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); }).listen(port, '0.0.0.0', () => console.log('ready'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

/** Connects once and keeps the connection: each stdin line is sent, each answer printed as got:TEXT. */
export const HOLD_CLIENT = `
const net = require('net');
const s = net.connect(Number(process.argv[2]), process.argv[1], () => console.log('connected'));
s.setEncoding('utf8');
s.on('data', (d) => { for (const l of d.split('\\n').filter(Boolean)) console.log('got:' + l); });
s.on('error', (e) => console.log('error:' + e.code));
s.on('close', () => console.log('closed'));
require('readline').createInterface({ input: process.stdin }).on('line', (l) => s.write(l + '\\n'));
process.stdin.on('end', () => process.exit(0));
`;

/** One UDP datagram from a fixed source port; prints the echo server's JSON answer or {"timeout":true}. */
export const UDP_PROBE = `
const d = require('dgram').createSocket('udp4');
d.on('message', (m) => { console.log(m.toString().trim()); process.exit(0); });
d.bind(Number(process.argv[1]), () => d.send('x', Number(process.argv[3]), process.argv[2]));
setTimeout(() => { console.log('{"timeout":true}'); process.exit(0); }, 1500);
`;

export async function udpProbe(netns: string, sport: number, ip: string, port: number): Promise<{ backend?: string; timeout?: boolean }> {
  const out = await sh(netns, [process.execPath, '-e', UDP_PROBE, String(sport), ip, String(port)]);
  return JSON.parse(out.trim().split('\n').pop()!);
}

/**
 * A dump with the order the kernel lists objects in taken out: an incremental
 * apply creates a new chain after the old ones, a full load in file order,
 * and both hold the same rules. nft blocks (chains, sets, maps) are sorted
 * as wholes; iptables-save lines are sorted by chain, rules keeping their
 * order within it.
 */
export function canonical(dump: string): string {
  return dump
    .split('\n=====\n')
    .map((part) => {
      if (/^\*/m.test(part) && !/^table /m.test(part)) {
        const lines = part.split('\n');
        const key = (line: string) => (line.startsWith('-A ') ? `2 ${line.split(' ')[1]}` : line.startsWith(':') ? `1 ${line}` : '0');
        return lines
          .map((line, i) => ({ line, i }))
          .sort((a, b) => (key(a.line) < key(b.line) ? -1 : key(a.line) > key(b.line) ? 1 : a.i - b.i))
          .map((x) => x.line)
          .join('\n');
      }
      const blocks: string[] = [];
      let current: string[] = [];
      for (const line of part.split('\n').filter((l) => l.trim() !== '')) {
        if (/^\t(chain|set|map) /.test(line) || /^(table|})/.test(line)) {
          if (current.length) blocks.push(current.join('\n'));
          current = [];
        }
        current.push(line);
      }
      if (current.length) blocks.push(current.join('\n'));
      return blocks.sort().join('\n');
    })
    .join('\n=====\n');
}

/** The share of neighbours in ascending order: 1 for a sorted list, about a half for a shuffled one. */
export function ascents(names: string[]): number {
  let up = 0;
  for (let i = 1; i < names.length; i++) if (names[i - 1]! < names[i]!) up++;
  return up / Math.max(1, names.length - 1);
}
