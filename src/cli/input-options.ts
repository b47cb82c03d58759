import type { Command } from 'commander';
import type { ValidateOptions } from '../validate/index.js';
import { dns1123Label } from '../validate/names.js';
import { UsageError } from './errors.js';

/** The flags every command that reads manifests shares, besides -f. */
export function addInputOptions(command: Command): Command {
  return command.option('-n, --namespace <namespace>', 'namespace of objects that name none, as kubectl apply -n (default "default")');
}

export interface RawInputFlags {
  namespace?: string;
}

/** Checks the input flags (a bad one is a usage error). */
export function inputOptionsFrom(flags: RawInputFlags): ValidateOptions {
  if (flags.namespace === undefined) return {};
  const problem = dns1123Label(flags.namespace);
  if (problem) throw new UsageError(`--namespace ${JSON.stringify(flags.namespace)}: ${problem}`);
  return { namespace: flags.namespace };
}
