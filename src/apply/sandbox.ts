import type { ResultPromise } from 'execa';
import { readFile, readlink } from 'node:fs/promises';
import type { Exec, ExecResult, Scratch, Target } from './exec.js';
import { prefixedExec } from './exec.js';

/**
 * A throwaway network namespace with nothing in it, for two jobs: proving the
 * kernel accepts a rule set before the target is touched (the dry form of
 * ipset and ipvsadm, which have no --test), and turning kpc's text into the
 * kernel's own canonical dump (iptables-save, nft list, ipvsadm -Sn, ipset
 * save) so it can be compared with what the target holds.
 *
 * It is anonymous (`unshare --net`, no name under /run/netns) and held open
 * by a `cat` that reads from kpc: when kpc exits, even by SIGKILL, the pipe
 * closes, cat exits and the kernel frees the namespace. Nothing is left.
 */
export class Sandbox implements Scratch {
  private constructor(
    private readonly holder: ResultPromise,
    private readonly pid: number,
    private readonly prefix: string[],
  ) {}

  static async open(target: Target): Promise<Sandbox> {
    const argv = [...target.prefix, 'unshare', '--net', '--', 'cat'];
    const { execa } = await import('execa');
    const holder = execa(argv[0]!, argv.slice(1), { stdin: 'pipe', stdout: 'ignore', stderr: 'pipe', reject: false });
    if (holder.pid === undefined) throw new Error('cannot start `unshare --net` for a scratch network namespace');
    const sandbox = new Sandbox(holder, holder.pid, []);
    try {
      await sandbox.ready();
    } catch (error) {
      sandbox.close();
      throw error;
    }
    return sandbox;
  }

  /** Runs a command inside the scratch namespace. */
  readonly exec: Exec = (argv, options) => prefixedExec(['nsenter', `--net=/proc/${this.pid}/ns/net`, '--', ...this.prefix])(argv, options);

  /** Runs a command there and returns its output, or the failure as it was. */
  async run(argv: string[], input?: string): Promise<ExecResult> {
    return this.exec(argv, input === undefined ? {} : { input });
  }

  close(): void {
    this.holder.stdin?.end();
    this.holder.kill('SIGTERM');
  }

  /** unshare execs cat only after unshare(CLONE_NEWNET) succeeded, so "cat" means the namespace exists. */
  private async ready(): Promise<void> {
    const own = await readlink('/proc/self/ns/net');
    let exited = false;
    void this.holder.then(() => (exited = true));
    for (let i = 0; i < 400; i++) {
      if (exited) break;
      try {
        const comm = (await readFile(`/proc/${this.pid}/comm`, 'utf8')).trim();
        if (comm === 'cat' && (await readlink(`/proc/${this.pid}/ns/net`)) !== own) return;
      } catch {
        /* not there yet */
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const result = await Promise.race([this.holder, new Promise((r) => setTimeout(r, 100, null))]);
    const why = result && typeof result === 'object' && 'stderr' in result ? String(result.stderr).trim() : 'it did not start in time';
    throw new Error(`cannot create a scratch network namespace with \`unshare --net\`: ${why || 'unknown reason'}`);
  }
}
