// First-packet cost probe, run inside the kernel harness's client namespace.
// Opens NEW TCP connections one at a time (so each one's SYN is a new
// conntrack entry that walks the node's NAT rules) to each target in turn,
// interleaved in rounds so that drift hits every target alike, and prints
// one JSON line: per target, connect times (SYN sent -> SYN-ACK received,
// as seen by connect()) and full times (until the pod's answer and FIN), in
// microseconds from a monotonic clock.
//
//   node rtt-client.mjs '<json>'   with {"targets":[{"label","ip","port"}],
//                                        "count":1000,"round":50,"warmup":20,"timeoutMs":1000}
// Bounded: count x targets connections at most, each given up after timeoutMs.
import net from 'node:net';

function once(ip, port, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let connected = null;
    let data = '';
    let done = false;
    const sock = net.connect({ host: ip, port });
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => (connected = process.hrtime.bigint()));
    sock.on('data', (chunk) => (data += chunk));
    sock.on('error', (err) => finish({ ok: false, error: err.code ?? String(err) }));
    sock.on('end', () => {
      const end = process.hrtime.bigint();
      if (!data || connected === null) return finish({ ok: false, error: 'no-reply' });
      let backend = null;
      try {
        backend = JSON.parse(data.trim()).backend;
      } catch {
        /* a reply that is not the echo server's */
      }
      finish({ ok: true, connectUs: Number(connected - t0) / 1000, totalUs: Number(end - t0) / 1000, backend });
    });
  });
}

const job = JSON.parse(process.argv[2] ?? '{}');
const { targets, count = 1000, round = 50, warmup = 20, timeoutMs = 1000 } = job;
if (!Array.isArray(targets) || targets.length === 0) throw new Error('no targets');
const results = targets.map((t) => ({ ...t, connectUs: [], totalUs: [], failures: 0, errors: {}, backends: {} }));
for (const t of targets) for (let i = 0; i < warmup; i++) await once(t.ip, t.port, timeoutMs);
for (let done = 0; done < count; done += round) {
  for (const r of results) {
    for (let i = 0; i < Math.min(round, count - done); i++) {
      const reply = await once(r.ip, r.port, timeoutMs);
      if (!reply.ok) {
        r.failures++;
        r.errors[reply.error] = (r.errors[reply.error] ?? 0) + 1;
        continue;
      }
      r.connectUs.push(reply.connectUs);
      r.totalUs.push(reply.totalUs);
      r.backends[reply.backend] = (r.backends[reply.backend] ?? 0) + 1;
    }
  }
}
process.stdout.write(JSON.stringify(results) + '\n');
