import { Command, CommanderError } from 'commander';
import { InputError, printable } from '../diagnostics/diagnostic.js';
import { UsageError, UserError } from './errors.js';
import { printDiagnostics, printLine } from './report.js';

type Register = (program: Command) => void;

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
  simulate: async () => (await import('./simulate.js')).registerSimulate,
};

/**
 * The commands to register for these arguments: the one named, none for
 * --version, and every one otherwise (help, or a mistake commander answers
 * with the list of commands), so what kpc prints never depends on this.
 */
function commandsFor(argv: string[]): string[] {
  const first = argv[0];
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [first];
  if (argv.length === 1 && (first === '--version' || first === '-V')) return [];
  return Object.keys(COMMANDS);
}

/** Runs kpc with the given arguments and returns the exit status: 0 ok, 1 bad input or failed apply, 2 usage. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('kpc')
    .description('Kubernetes Service rule compiler: manifests in, kube-proxy rules out')
    .version('0.1.0')
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
    // diff follows diff(1): 0 same, 1 different, 2 trouble of any kind.
    return argv[0] === 'diff' && status !== 0 ? 2 : status;
  }
}

function failure(error: unknown): number {
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
