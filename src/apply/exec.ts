// execa is imported when a command first runs: loading it costs a quarter second that generate never needs.
let execaModule: typeof import('execa') | undefined;
/** Loads execa (once); after it, commands spawn as they are called (see prefixedExec). */
export const loadExeca = async () => (execaModule ??= await import('execa'));

/** What a finished command left: never thrown, the caller decides what a failure means. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Text for the command's standard input (closed at once when absent). */
  input?: string;
  /** Called with the child's PID as soon as it runs (the apply lock records committing children). */
  onSpawn?: (pid: number) => void;
  /** Send the command's standard output to /dev/null (it can be tens of megabytes that nobody reads); stdout is then ''. */
  discardStdout?: boolean;
}

/** Runs one command to completion: argv[0] is the program, never a shell. */
export type Exec = (argv: string[], options?: ExecOptions) => Promise<ExecResult>;

/**
 * Where apply's commands run. The CLI uses the host itself; tests give a
 * network namespace so nothing they do reaches the root namespace.
 */
export interface Target {
  /** Runs a command in the target. */
  exec: Exec;
  /** The argv prefix that puts a command in the target (`[]` for the host, `ip netns exec NAME` for a namespace). */
  prefix: string[];
  /** Said in messages: "the host" or "network namespace NAME". */
  description: string;
  /**
   * Opens an empty scratch network namespace beside the target (see
   * sandbox.ts). Default: `unshare --net` run through `prefix`, reached with
   * nsenter via /proc, which needs the target's processes to be local. A
   * target that forwards commands elsewhere (a VM) supplies its own.
   */
  openScratch?: () => Promise<Scratch>;
}

/** A throwaway, empty network namespace: commands run in it, close() frees it. */
export interface Scratch {
  exec: Exec;
  close(): void;
}

const TIMEOUT_MS = 120_000;

/** An Exec that runs every command after `prefix` (argument arrays only). */
export function prefixedExec(prefix: string[]): Exec {
  return (argv, options = {}) => {
    const full = [...prefix, ...argv];
    // With execa loaded, the child is spawned before this returns: a caller that starts commands and then computes (the markers read while the rules are emitted) has them running meanwhile.
    return execaModule ? run(execaModule, full, options) : loadExeca().then((module) => run(module, full, options));
  };
}

async function run({ execa }: typeof import('execa'), full: string[], options: ExecOptions): Promise<ExecResult> {
  const child = execa(full[0]!, full.slice(1), {
    reject: false,
    timeout: TIMEOUT_MS,
    ...(options.discardStdout ? { stdout: 'ignore' as const } : {}),
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const result = await child;
  const exitCode = result.exitCode ?? (result.failed ? -1 : 0);
  const stderr = String(result.stderr ?? '') || (result.failed && result.exitCode === undefined ? String(result.message) : '');
  return { stdout: String(result.stdout ?? ''), stderr, exitCode };
}

/** The machine kpc runs on: what the CLI applies to. */
export function hostTarget(): Target {
  return { exec: prefixedExec([]), prefix: [], description: 'the host' };
}

/** A named network namespace (`ip netns exec NAME ...`): what the tests apply to. */
export function netnsTarget(name: string): Target {
  const prefix = ['ip', 'netns', 'exec', name];
  return { exec: prefixedExec(prefix), prefix, description: `network namespace ${name}` };
}

/** Runs a command and throws CommandError unless it exits 0. */
export async function mustRun(exec: Exec, argv: string[], options?: ExecOptions): Promise<string> {
  const result = await exec(argv, options);
  if (result.exitCode !== 0) throw new CommandError(argv, result);
  return result.stdout;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: ExecResult,
  ) {
    super(`\`${argv.join(' ')}\` failed (exit ${result.exitCode}): ${firstLines(result.stderr || result.stdout)}`);
  }
}

/** The first few lines of a tool's complaint, enough to say what it rejected. */
export function firstLines(text: string, count = 4): string {
  const lines = text.trim().split('\n').filter(Boolean);
  const shown = lines.slice(0, count).join(' | ');
  return lines.length > count ? `${shown} | ...` : shown || '(no message)';
}
