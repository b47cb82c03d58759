import { execa } from 'execa';

let counter = 0;

/**
 * Runs `fn` with a fresh, empty network namespace and deletes it afterwards,
 * also on failure. For tests that only load rules and read them back.
 */
export async function withNetns<T>(fn: (exec: (argv: string[], input?: string) => Promise<{ stdout: string; stderr: string; exitCode: number }>) => Promise<T>): Promise<T> {
  const name = `kpc-${process.pid}-t${++counter}-probe`;
  await execa('ip', ['netns', 'add', name]);
  try {
    return await fn(async (argv, input) => {
      const result = await execa('ip', ['netns', 'exec', name, ...argv], { input, reject: false });
      return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? -1 };
    });
  } finally {
    await execa('ip', ['netns', 'del', name], { reject: false });
  }
}
