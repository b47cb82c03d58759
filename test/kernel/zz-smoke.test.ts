import { it, expect } from 'vitest';
import { createWorld } from './harness.js';
it('smoke', async () => {
  const t0 = performance.now();
  const w = await createWorld({ dualStack: true });
  console.log('create ms', performance.now() - t0);
  try {
    const [l1, l2, l3, r1, r2] = w.pods;
    const t1 = performance.now();
    const res = await Promise.all([
      w.request(l1!, { ip: l2!.ip[4], port: 80, proto: 'tcp' }),
      w.request(w.node, { ip: l3!.ip[4], port: 8080, proto: 'tcp' }),
      w.request(l1!, { ip: r1!.ip[4], port: 80, proto: 'tcp' }),
      w.request(w.client, { ip: r2!.ip[4], port: 53, proto: 'udp', }, { count: 3 }),
      w.request(l1!, { ip: l2!.ip[4], port: 9999, proto: 'tcp' }),
      w.request(l1!, { ip: l2!.ip[4], port: 9999, proto: 'udp' }),
      w.request(l1!, { ip: '10.96.0.1', port: 80, proto: 'tcp' }, { timeoutMs: 300 }),
      w.request(l1!, { ip: r1!.ip[6]!, port: 80, proto: 'tcp' }),
      w.request(w.node, { ip: r1!.ip[6]!, port: 80, proto: 'tcp' }),
      w.request(w.client, { ip: l1!.ip[6]!, port: 53, proto: 'udp' }),
      w.request(l1!, { ip: '192.0.2.100', port: 80, proto: 'tcp' }),
    ]);
    console.log('req ms', performance.now() - t1);
    console.log(JSON.stringify(res, null, 1));
  } finally {
    const t2 = performance.now();
    await w.destroy();
    console.log('destroy ms', performance.now() - t2);
  }
});
