import type { Target } from './exec.js';
import type { Lock } from './lock.js';

/** Test-only hooks: they let a test break a commit on purpose. The CLI never sets them. */
export interface ApplyHooks {
  /** Rewrites a rule file after it passed its check, just before it is committed. */
  beforeCommit?(tool: 'iptables' | 'ip6tables' | 'nftables', text: string): string;
}

export interface ApplyContext {
  target: Target;
  runDir: string;
  lock: Lock | null;
  hooks: ApplyHooks;
}

/** Ends one step's timing (ApplyReport.timings): `lap(step)`. */
export type Lap = (step: string) => void;
