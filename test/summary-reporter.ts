// Prints one plain closing line, `N passed, N failed, N skipped`, that tools
// reading test output understand whatever the runner. Runs after vitest's
// default reporter (see vitest.config.ts).
import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function countModule(module: TestModule, counts: Counts): void {
  let failedHere = 0;
  for (const test of module.children.allTests()) {
    const { state } = test.result();
    if (state === 'passed') counts.passed++;
    else if (state === 'failed') failedHere++;
    // 'pending' only remains when the run was cut short: the test never ran.
    else counts.skipped++;
  }
  // A file can fail with no failing test (an import or collection error, a
  // throwing beforeAll/afterAll): count it once, so the line never says
  // "0 failed" while vitest exits non-zero.
  if (failedHere === 0 && module.state() === 'failed') failedHere = 1;
  counts.failed += failedHere;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: TestRunEndReason,
  ): void {
    const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) countModule(module, counts);
    // Unhandled errors also make vitest exit non-zero.
    counts.failed += unhandledErrors.length;
    // A run that failed before or around every test (a failing globalSetup,
    // an interruption) still must not read as a clean "0 failed".
    if (reason !== 'passed' && counts.failed === 0) counts.failed = 1;
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
