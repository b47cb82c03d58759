import { beforeAll, type TestContext } from 'vitest';
import { vmAvailability } from './vm.js';

const IN_CI = process.env.CI === 'true';

/**
 * One VM run shared by a file's tests: booted once in beforeAll, then each test
 * takes it with `need(ctx)`. Where no VM can run, tests skip with the reason,
 * except under CI=true, where they fail; a boot that failed fails every test.
 */
export function sharedVmRun<T>(tag: string, boot: () => Promise<T>, timeoutMs: number): (ctx: TestContext) => T {
  let avail: { ok: boolean; reason?: string } = { ok: false, reason: 'not probed' };
  let run: T | undefined;
  let runError: Error | undefined;
  beforeAll(async () => {
    const t0 = Date.now();
    const a = await vmAvailability({ timeoutMs: 240_000 });
    avail = a.ok ? { ok: true } : { ok: false, reason: a.reason };
    console.log(`${tag} VM image ready in ${Date.now() - t0} ms`);
    if (!a.ok) {
      console.warn(`${tag} ${IN_CI ? 'FAIL (CI=true)' : 'SKIP'}: no VM can be run here: ${a.reason}`);
      return;
    }
    try {
      run = await boot();
    } catch (e) {
      runError = e as Error;
    }
  }, timeoutMs);
  return (ctx) => {
    if (!avail.ok) {
      if (IN_CI) throw new Error(`VM unavailable in CI: ${avail.reason}`);
      ctx.skip(`no VM can be run here: ${avail.reason}`);
    }
    if (runError) throw runError;
    return run!;
  };
}
