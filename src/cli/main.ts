import { Command, CommanderError } from 'commander';
import { InputError, printable } from '../diagnostics/diagnostic.js';
import { CLOSED_PIPE_STATUS, ClosedPipe, UsageError, UserError } from './errors.js';
import { printDiagnostics, printLine } from './report.js';

type Register = (program: Command) => void;

/** package.json's version, put in by scripts/bundle.mjs; bin/kpc only runs the bundle. */
declare const KPC_VERSION: string | undefined;
const VERSION = typeof KPC_VERSION === 'string' ? KPC_VERSION : '0.0.0-unbundled';

/**
 * Each command's module, loaded only when it may run: importing all eight
 * (the compiler, three emitters, the packet tracer, the rule readers, apply)
 * cost more than kpc --version's whole run. In --help's order.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  generate: async () => (await import('./generate.js')).registerGenerate,
  apply: async () => (await import('./apply.js')).registerApply,
  validate: async () => (await import('./validate.js')).registerValidate,
  diff: async () => (await import('./diff.js')).registerDiff,
  explain: async () => (await import('./explain.js')).registerExplain,
  graph: async () => (await import('./graph.js')).registerGraph,
  dns: async () => (await import('./dns.js')).registerDns,
  completion: async () => (await import('./completion.js')).registerCompletion,
  manual: async () => (await import('./manual.js')).registerManual,
  simulate: async () => (await import('./simulate.js')).registerSimulate,
};

/**
 * The commands to register for these arguments: the one named, none for
 * --version, and every one otherwise (help, or a mistake commander answers
 * with the list of commands), so what kpc prints never depends on this.
 */
function commandsFor(argv: string[]): string[] {
  const first = argv[0];
  // A completion script and the manual list every command, so all are registered for them.
  if (first !== undefined && first !== 'completion' && first !== 'manual' && Object.hasOwn(COMMANDS, first)) return [first];
  if (argv.length === 1 && (first === '--version' || first === '-V')) return [];
  return Object.keys(COMMANDS);
}

/**
 * Messages whose reader went away (`kpc generate -v -o FILE 2>&1 | head`) are
 * lost, and nothing more: the work and its output go on. Unheard, the
 * stream's EPIPE crashed kpc before FILE was written. There is nowhere left to
 * report a failure to write stderr, so every such error is dropped.
 */
let stderrErrorsDropped = false;
function dropStderrErrors(): void {
  if (stderrErrorsDropped) return;
  stderrErrorsDropped = true;
  process.stderr.on('error', () => {});
}

/** Runs kpc with the given arguments and returns the exit status: 0 ok, 1 bad input or failed apply, 2 usage. */
export async function main(argv: string[]): Promise<number> {
  dropStderrErrors();
  const program = new Command('kpc')
    .description('Kubernetes Service rule compiler: manifests in, kube-proxy rules out')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  try {
    const registers = await Promise.all(commandsFor(argv).map((name) => COMMANDS[name]!()));
    for (const register of registers) register(program);
    for (const command of program.commands) command.exitOverride();
    process.exitCode = 0;
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    const status = failure(error);
    // diff follows diff(1): 0 same, 1 different, 2 trouble of any kind; a reader that left is no trouble.
    return argv[0] === 'diff' && status !== 0 && status !== CLOSED_PIPE_STATUS ? 2 : status;
  }
}

function failure(error: unknown): number {
  if (error instanceof ClosedPipe) {
    // Writes still queued fail the same way once kpc is done; they must not surface as an unhandled 'error'.
    process.stdout.on('error', () => {});
    return CLOSED_PIPE_STATUS;
  }
  if (error instanceof CommanderError) {
    // --help and --version end through here too, successfully.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof UsageError) {
    printLine(`kpc: ${printable(error.message)} (see kpc --help)`);
    return 2;
  }
  if (error instanceof InputError) {
    printDiagnostics(error.diagnostics);
    const errors = error.diagnostics.filter((d) => d.severity === 'error').length;
    printLine(`kpc: ${errors} problem${errors === 1 ? '' : 's'} in the input; nothing was written`);
    return 1;
  }
  if (error instanceof UserError) {
    printLine(`kpc: ${printable(error.message)}`);
    return 1;
  }
  const detail = process.env.KPC_DEBUG ? (error as Error).stack : String((error as Error)?.message ?? error);
  printLine(`kpc: internal error: ${detail}\nThis is a bug in kpc; please report it with the input that caused it.`);
  return 1;
}
