/**
 * Run a shell script in a throwaway qemu VM whose kernel has IPVS, ipset,
 * nf_tables/iptables, conntrack, veth, dummy, sctp... (Debian's
 * linux-image-amd64), with no network device at all (-nic none).
 *
 *   const r = await runInVm({
 *     script: 'ipvsadm -R < rules.ipvs && ipvsadm -Ln',
 *     files: { 'rules.ipvs': '-A -t 10.96.0.10:80 -s rr\n' },
 *   });
 *   r.exitCode; r.stdout; r.stderr
 *
 * In the VM the files are under /work (relative paths, sub-directories
 * allowed), the script is /work/script.sh and runs with /work as its working
 * directory, as root, with /bin/sh = dash (or the interpreter of its #! line,
 * e.g. #!/bin/bash). The files travel in a small cpio archive appended to the
 * cached initramfs at every run. stdout comes back through the serial console
 * between nonce markers, stderr through a second serial port, the exit status
 * in the end marker. See test/vm/README.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VM_DIR = dirname(fileURLToPath(import.meta.url));
export const BUILD_SCRIPT = join(VM_DIR, 'build-vm.sh');
export const KERNEL_CMDLINE = 'console=ttyS0 panic=-1 quiet';

export type VmFileContent = string | Uint8Array;
export interface VmFile {
  content: VmFileContent;
  /** Permission bits, default 0o644 (0o755 makes it executable). */
  mode?: number;
}

export interface RunInVmOptions {
  /** Shell script run as /work/script.sh (dash, unless it has a #! line). */
  script: string;
  /** Files put under /work in the VM, by relative path. */
  files?: Record<string, VmFileContent | VmFile>;
  /** Hard limit for the whole VM run (boot included); default 120 s. */
  timeoutMs?: number;
  /** Guest memory, default 512 MiB. */
  memoryMb?: number;
  /**
   * Called with every chunk of the serial console, e.g. for live debugging
   * (KPC_VM_DEBUG=1 in the environment copies it to stderr).
   */
  onConsole?: (chunk: string) => void;
}

export interface RunInVmResult {
  /** The script's stdout (CRLF turned into LF). */
  stdout: string;
  /** The script's stderr. */
  stderr: string;
  /** The script's exit status. */
  exitCode: number;
  /** Everything qemu printed on the console (boot messages, markers). */
  console: string;
  /** Host time from qemu's start until /init was running, ms. */
  bootMs: number;
  /** Host time of the whole run (qemu start to exit), ms. */
  totalMs: number;
  /** Guest uptime when /init started, s. */
  guestBootSeconds: number;
  /** Kernel release in the VM, e.g. 6.1.0-56-amd64. */
  kernelVersion: string;
}

export interface VmImage {
  dir: string;
  kernel: string;
  initramfs: string;
  kernelVersion: string;
  /** Contents of the image's info file (key=value lines). */
  info: string;
}

/** Raised when the VM itself failed: no image, qemu died, timeout. */
export class VmError extends Error {
  constructor(
    message: string,
    readonly console = '',
    readonly stderr = '',
  ) {
    super(console ? `${message}\n--- console (tail) ---\n${console.slice(-3000)}` : message);
    this.name = 'VmError';
  }
}

export function qemuBinary(): string {
  return process.env.KPC_VM_QEMU ?? 'qemu-system-x86_64';
}

let imagePromise: Promise<VmImage> | undefined;

/**
 * Builds the VM image if needed (test/vm/build-vm.sh: apt-get installs,
 * kernel download, initramfs) and returns its paths. Memoized per process.
 */
export function ensureVmImage(opts: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<VmImage> {
  imagePromise ??= buildImage(opts.timeoutMs ?? 300_000, opts.log).catch((e: unknown) => {
    imagePromise = undefined;
    throw e;
  });
  return imagePromise;
}

async function buildImage(timeoutMs: number, log?: (line: string) => void): Promise<VmImage> {
  const { code, stdout, stderr, timedOut } = await run('bash', [BUILD_SCRIPT], timeoutMs, log);
  if (timedOut) throw new VmError(`build-vm.sh timed out after ${timeoutMs} ms\n${stderr.slice(-3000)}`);
  if (code !== 0) throw new VmError(`build-vm.sh failed (exit ${code})\n${stderr.slice(-3000)}`);
  const dir = stdout.trim().split('\n').pop() ?? '';
  const kernel = join(dir, 'kernel');
  const initramfs = join(dir, 'initramfs.img');
  if (!existsSync(kernel) || !existsSync(initramfs)) {
    throw new VmError(`build-vm.sh printed no usable image dir (got "${dir}")\n${stderr.slice(-3000)}`);
  }
  const kernelVersion = (await readFile(join(dir, 'kernel-version'), 'utf8')).trim();
  const info = await readFile(join(dir, 'info'), 'utf8');
  return { dir, kernel, initramfs, kernelVersion, info };
}

/**
 * Whether VMs can be run here: builds the image and checks qemu. Never
 * throws; `reason` says why not.
 */
export async function vmAvailability(
  opts: { timeoutMs?: number } = {},
): Promise<{ ok: true; image: VmImage } | { ok: false; reason: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { ok: false, reason: `the VM harness needs linux/x64 (this is ${process.platform}/${process.arch})` };
  }
  let image: VmImage;
  try {
    image = await ensureVmImage(opts);
  } catch (e) {
    return { ok: false, reason: `cannot build the VM image: ${(e as Error).message}` };
  }
  const q = await run(qemuBinary(), ['--version'], 30_000);
  if (q.code !== 0) return { ok: false, reason: `${qemuBinary()} does not run: ${q.stderr || q.stdout}` };
  return { ok: true, image };
}

/** Boots the VM, runs the script, returns its output and exit status. */
export async function runInVm(opts: RunInVmOptions): Promise<RunInVmResult> {
  const image = await ensureVmImage();
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const nonce = randomBytes(8).toString('hex');
  const tmp = await mkdtemp(join(tmpdir(), 'kpc-vm-'));
  try {
    const entries: CpioEntry[] = [{ path: 'work', mode: 0o40755 }];
    const dirs = new Set<string>(['work']);
    const addFile = (rel: string, content: VmFileContent, mode: number): void => {
      const path = posix.join('work', rel);
      for (let d = posix.dirname(path); d !== '.' && !dirs.has(d); d = posix.dirname(d)) {
        dirs.add(d);
      }
      entries.push({ path, mode: 0o100000 | mode, data: typeof content === 'string' ? Buffer.from(content) : content });
    };
    for (const [name, f] of Object.entries(opts.files ?? {})) {
      const rel = checkRelPath(name);
      if (rel === 'script.sh' || rel === '.kpc-vm-run') throw new Error(`runInVm: file name ${name} is reserved`);
      const isObj = typeof f === 'object' && !(f instanceof Uint8Array);
      addFile(rel, isObj ? f.content : f, isObj ? (f.mode ?? 0o644) : 0o644);
    }
    const guestTimeout = Math.max(10, Math.ceil(timeoutMs / 1000) + 5);
    addFile('.kpc-vm-run', `NONCE=${nonce}\nTIMEOUT_S=${guestTimeout}\n`, 0o644);
    addFile('script.sh', opts.script, 0o755);
    // Parent directories first (sorted: a parent sorts before its children).
    const dirEntries = [...dirs].filter((d) => d !== 'work').sort().map((d) => ({ path: d, mode: 0o40755 }));
    const archive = cpioNewc([entries[0], ...dirEntries, ...entries.slice(1)]);

    const initrd = join(tmp, 'initrd.img');
    const base = await readFile(image.initramfs);
    // The kernel unpacks concatenated cpio archives in order (the base one
    // gzipped, ours plain). Each must start at a 4-byte aligned offset, else
    // ours is silently ignored: pad the base.
    const pad = Buffer.alloc((4 - (base.length % 4)) % 4);
    await writeFile(initrd, Buffer.concat([base, pad, archive]));
    const stderrFile = join(tmp, 'stderr.txt');

    const args = [
      '-accel', 'tcg',
      '-nodefaults', '-no-user-config',
      '-nographic', '-no-reboot',
      '-m', String(opts.memoryMb ?? 512),
      '-smp', '1',
      '-nic', 'none',
      '-monitor', 'none',
      '-serial', 'stdio',
      '-serial', `file:${stderrFile}`,
      '-kernel', image.kernel,
      '-initrd', initrd,
      '-append', KERNEL_CMDLINE,
    ];
    const start = Date.now();
    let bootMs = -1;
    const bootedMarker = `<<<KPC-VM-BOOTED ${nonce} `;
    const res = await run(qemuBinary(), args, timeoutMs, undefined, (chunk, all) => {
      opts.onConsole?.(chunk);
      if (process.env.KPC_VM_DEBUG === '1') process.stderr.write(chunk);
      if (bootMs < 0 && all.includes(bootedMarker)) bootMs = Date.now() - start;
    });
    const totalMs = Date.now() - start;
    const consoleText = res.stdout;
    const stderr = existsSync(stderrFile) ? (await readFile(stderrFile, 'utf8')).replace(/\r\n/g, '\n') : '';
    if (res.timedOut) {
      throw new VmError(`VM timed out after ${timeoutMs} ms (qemu killed)`, consoleText, stderr);
    }
    const begin = `<<<KPC-VM-STDOUT-BEGIN ${nonce}>>>\n`;
    const bi = consoleText.indexOf(begin);
    const endRe = new RegExp(`<<<KPC-VM-STDOUT-END ${nonce} rc=(\\d+) `);
    const em = endRe.exec(consoleText);
    if (consoleText.includes(`<<<KPC-VM-TIMEOUT ${nonce}`)) {
      throw new VmError(`VM script timed out (guest watchdog, ${guestTimeout} s)`, consoleText, stderr);
    }
    if (bi < 0 || !em || em.index < bi) {
      throw new VmError(
        `VM did not report the script's end (qemu exit ${res.code}${res.stderr ? `: ${res.stderr.trim()}` : ''})`,
        consoleText,
        stderr,
      );
    }
    const bootMatch = new RegExp(`<<<KPC-VM-BOOTED ${nonce} uptime=([0-9.]+) kernel=(\\S+)>>>`).exec(consoleText);
    return {
      stdout: consoleText.slice(bi + begin.length, em.index).replace(/\r\n/g, '\n'),
      stderr,
      exitCode: Number(em[1]),
      console: consoleText,
      bootMs,
      totalMs,
      guestBootSeconds: bootMatch ? Number(bootMatch[1]) : -1,
      kernelVersion: bootMatch ? bootMatch[2] : image.kernelVersion,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Parses the reply lines of `kpc-echo client` (see kpc-echo.c):
 *   NAME proto=tcp peer=10.0.0.2:40000 local=10.244.1.2:8080 msg=hello
 *   ERROR proto=udp dst=10.96.0.10:53 err=timeout
 * Lines that are neither are ignored.
 */
export interface EchoReply {
  /** Server name (-n), or 'ERROR'. */
  name: string;
  fields: Record<string, string>;
}
export function parseEchoReplies(text: string): EchoReply[] {
  const out: EchoReply[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+) (proto=\S+(?: \S+=\S*)*)\s*$/.exec(line.trim());
    if (!m) continue;
    const fields: Record<string, string> = {};
    for (const kv of m[2].split(' ')) {
      const i = kv.indexOf('=');
      fields[kv.slice(0, i)] = kv.slice(i + 1);
    }
    out.push({ name: m[1], fields });
  }
  return out;
}

/**
 * Splits a script's stdout into sections: a line "### NAME" starts section
 * NAME (lines before the first header go to section ""). Lets one VM run
 * report several checks: `echo "### tcp"; kpc-echo client ...`.
 */
export function splitSections(stdout: string, prefix = '### '): Record<string, string> {
  const out: Record<string, string> = {};
  let cur = '';
  out[cur] = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith(prefix)) {
      cur = line.slice(prefix.length).trim();
      out[cur] ??= '';
      continue;
    }
    out[cur] += `${line}\n`;
  }
  return out;
}

/** Single-quotes a string for the VM's shell. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function checkRelPath(name: string): string {
  const rel = posix.normalize(name);
  if (!name || name.startsWith('/') || rel.startsWith('..') || rel === '.' || name.includes('\0')) {
    throw new Error(`runInVm: file name must be a relative path inside /work: ${JSON.stringify(name)}`);
  }
  return rel;
}

interface CpioEntry {
  path: string;
  mode: number;
  data?: Uint8Array;
}

/** A cpio archive in the "newc" format the kernel's initramfs unpacker reads. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1000;
  const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  const push = (path: string, mode: number, data: Uint8Array, nlink: number): void => {
    const name = Buffer.from(`${path}\0`);
    const hex = (n: number): string => n.toString(16).padStart(8, '0');
    const header =
      '070701' +
      [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, name.length, 0].map(hex).join('');
    parts.push(Buffer.from(header, 'ascii'), name, pad4(110 + name.length));
    parts.push(Buffer.from(data), pad4(data.length));
  };
  for (const e of entries) {
    const isDir = (e.mode & 0o170000) === 0o040000;
    push(e.path, e.mode, isDir ? new Uint8Array() : (e.data ?? new Uint8Array()), isDir ? 2 : 1);
  }
  push('TRAILER!!!', 0, new Uint8Array(), 1);
  const buf = Buffer.concat(parts);
  return Buffer.concat([buf, pad4(buf.length)]);
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Spawns a command, kills it (by its PID) after timeoutMs. */
function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
  log?: (line: string) => void,
  onStdout?: (chunk: string, all: string) => void,
): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: 127, stdout: '', stderr: String(e), timedOut: false });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      stdout += c;
      onStdout?.(c, stdout);
    });
    child.stderr.on('data', (c: string) => {
      stderr += c;
      if (log) for (const l of c.split('\n')) if (l) log(l);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(e), timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}
