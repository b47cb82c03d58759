import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { CompileStep } from '../compile.js';

/** Where progress goes: process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  /** The descriptor a ticker may write to; a stream without one gets no ticker. */
  fd?: number;
  write(text: string): unknown;
}

/**
 * The ticker: a worker thread that redraws the line every `tick` ms with the
 * seconds so far. The compiler runs synchronously on the main thread for
 * seconds at a time, so a timer there would never fire; a worker has its own
 * event loop and writes to the file descriptor itself. The shared state says
 * who may write: the worker starts only from NEW, and once the main thread
 * has asked it to stop, it writes nothing more and answers STOPPED, which the
 * main thread waits for before it writes anything else.
 */
const TICKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { fd, state, started, width, tick } = workerData;
const [NEW, RUNNING, STOP, STOPPED] = [0, 1, 2, 3];
let text = null;
parentPort.on('message', (message) => { text = message; });
if (Atomics.compareExchange(state, 0, NEW, RUNNING) === NEW) {
  const timer = setInterval(() => {
    if (Atomics.load(state, 0) !== RUNNING) {
      clearInterval(timer);
      Atomics.store(state, 0, STOPPED);
      Atomics.notify(state, 0);
      return;
    }
    if (text === null) return;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const line = 'kpc: ' + text + ' (' + seconds + ' s)';
    try { writeSync(fd, '\\r\\x1b[2K' + (line.length > width ? line.slice(0, width - 1) + '\\u2026' : line)); } catch {}
  }, tick);
}
`;
const NEW = 0;
const STOP = 2;
const STOPPED = 3;

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
  private readonly started = Date.now();
  private ticker: { worker: Worker; state: Int32Array } | null = null;

  constructor(
    private readonly stream: ProgressStream,
    private readonly enabled: boolean,
    /** Milliseconds between the ticker's redraws; 0: no ticker, the line changes only with the step. */
    private readonly tick = 0,
  ) {}

  /** Progress for work that is long when `large`: shown on a terminal unless --quiet, its seconds ticking. */
  static onStderr(options: { quiet?: boolean; large: boolean }, stream: ProgressStream = process.stderr): Progress {
    return new Progress(stream, options.large && !options.quiet && stream.isTTY === true, stream.fd === undefined ? 0 : 250);
  }

  step(text: string): void {
    if (!this.enabled) return;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    const line = `kpc: ${text} (${seconds} s)`;
    this.stream.write(`${CLEAR_LINE}${line.length > this.width ? `${line.slice(0, this.width - 1)}…` : line}`);
    this.shown = true;
    this.tickWith(text);
  }

  /** Erases the line, so that diagnostics and output that follow start clean. */
  clear(): void {
    this.stopTicker();
    if (!this.shown) return;
    this.stream.write(CLEAR_LINE);
    this.shown = false;
  }

  /** Wider than the terminal, the line would wrap and \r could not take it back. */
  private get width(): number {
    return Math.max(20, (this.stream.columns || 80) - 1);
  }

  /** Gives the ticker the step's text, starting it on the first step. */
  private tickWith(text: string): void {
    if (this.tick <= 0 || this.stream.fd === undefined) return;
    if (!this.ticker) {
      const state = new Int32Array(new SharedArrayBuffer(4));
      const workerData = { fd: this.stream.fd, state, started: this.started, width: this.width, tick: this.tick };
      const worker = new Worker(TICKER, { eval: true, workerData });
      // The ticker must never keep kpc alive, nor fail it.
      worker.unref();
      worker.on('error', () => {});
      this.ticker = { worker, state };
    }
    this.ticker.worker.postMessage(text);
  }

  /** Stops the ticker and waits until it has written its last line, so nothing it writes lands after what follows. */
  private stopTicker(): void {
    if (!this.ticker) return;
    const { worker, state } = this.ticker;
    this.ticker = null;
    // Not started yet: it never will, and has written nothing.
    if (Atomics.compareExchange(state, 0, NEW, STOPPED) !== NEW) {
      Atomics.store(state, 0, STOP);
      // It answers within a tick; the bound only keeps a wedged worker from hanging kpc.
      Atomics.wait(state, 0, STOP, this.tick * 8);
    }
    void worker.terminate();
  }
}

/** A ProgressStream over a file descriptor (a test's file, or stderr). */
export function descriptorStream(fd: number, isTTY: boolean, columns = 80): ProgressStream {
  return { fd, isTTY, columns, write: (text: string) => writeSync(fd, text) };
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
