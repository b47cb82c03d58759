import type { CompileStep } from '../compile.js';

/** Where progress goes: process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Inputs this large (bytes, all files together) take long enough to be worth a status line. */
export const LARGE_INPUT_BYTES = 4 * 1024 * 1024;

const CLEAR_LINE = '\r\x1b[2K';

/**
 * One status line on stderr for long work, rewritten in place as the work
 * moves from step to step and erased at the end. Only on a terminal: piped or
 * redirected stderr (scripts, CI logs) and --quiet get nothing, so what they
 * capture is only diagnostics. Texts are kpc's own words and numbers, never
 * user strings, so nothing here needs escaping.
 */
export class Progress {
  private shown = false;
  private readonly started = performance.now();

  constructor(
    private readonly stream: ProgressStream,
    private readonly enabled: boolean,
  ) {}

  /** Progress for work that is long when `large`: shown on a terminal unless --quiet. */
  static onStderr(options: { quiet?: boolean; large: boolean }, stream: ProgressStream = process.stderr): Progress {
    return new Progress(stream, options.large && !options.quiet && stream.isTTY === true);
  }

  step(text: string): void {
    if (!this.enabled) return;
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const line = `kpc: ${text} (${seconds} s)`;
    // Wider than the terminal, the line would wrap and \r could not take it back.
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    this.stream.write(`${CLEAR_LINE}${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    this.shown = true;
  }

  /** Erases the line, so that diagnostics and output that follow start clean. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write(CLEAR_LINE);
    this.shown = false;
  }
}

/** What a step of the compiler is doing, for the status line. */
export function compileStepText(step: CompileStep): string {
  switch (step.step) {
    case 'load':
      return `reading ${megabytes(step.bytes)} of manifests`;
    case 'validate':
      return `checking ${thousands(step.objects)} object${step.objects === 1 ? '' : 's'}`;
    case 'resolve':
      return 'matching endpoints to services';
    case 'graph':
      return 'building the routing graph';
  }
}

/** 16730 as "16,730"; toLocaleString would load ICU's locale data, some 15 ms of every run. */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** Megabytes for a status line: "34.3 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}
