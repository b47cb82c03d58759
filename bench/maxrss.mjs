// Preloaded into the real CLI (`node --import ./bench/maxrss.mjs bin/kpc ...`)
// so the bench learns its peak RSS and CPU time without /usr/bin/time: on exit
// it writes them as JSON to the file named by KPC_BENCH_USAGE.
import { writeFileSync } from 'node:fs';

const file = process.env.KPC_BENCH_USAGE;
if (file) {
  process.once('exit', (code) => {
    const usage = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({
        code,
        maxRssMB: Math.round((usage.maxRSS / 1024) * 10) / 10,
        cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
        sinceStartMs: performance.now(),
      }),
    );
  });
}
