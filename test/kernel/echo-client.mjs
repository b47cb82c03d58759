#!/usr/bin/env node
// Echo client for kernel tests. Runs inside a namespace and makes --count
// requests to one address, each on a fresh socket (so a fresh source port and
// a fresh conntrack entry, for UDP too), and prints one JSON line per attempt:
//   {"i":0,"ok":true,"backend":"local-1","sawSource":"10.244.1.2","sawPort":41234,"port":80,"ms":3}
//   {"i":1,"ok":false,"error":"refused","ms":1}
// error is 'refused' (ECONNREFUSED, i.e. RST or ICMP port unreachable),
// 'timeout', 'unreachable' (EHOSTUNREACH/ENETUNREACH, ICMP host/net/admin
// unreachable), 'reset', 'no-reply' (TCP closed without an answer), or the
// raw error code.
//
// Usage: echo-client.mjs --proto tcp|udp --host <ip> --port <n>
//                        [--count 1] [--timeout 1000] [--concurrency 8]
//        echo-client.mjs --serve
// --serve keeps one process per namespace (starting node costs ~100 ms, a
// request ~1 ms): it reads jobs as JSON lines on stdin,
//   {"id":7,"proto":"tcp","host":"10.96.0.10","port":80,"count":3,"timeout":1000,"concurrency":8}
// answers each with {"id":7,"replies":[...]} (or {"id":7,"error":"..."}),
// runs jobs concurrently, and exits when stdin closes.
import net from 'node:net';
import dgram from 'node:dgram';
import readline from 'node:readline';

function parseArgs(argv) {
  const opts = { proto: 'tcp', host: '', port: 0, count: 1, timeout: 1000, concurrency: 8 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts)) throw new Error(`unknown argument ${argv[i]}`);
    opts[key] = typeof opts[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return opts;
}

const ERRORS = {
  ECONNREFUSED: 'refused',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ECONNRESET: 'reset',
};

// Settles an attempt exactly once, whatever fires first.
function attempt(timeoutMs, start) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const cleanups = [];
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const c of cleanups) c();
      resolve({ ...result, ms: Math.round(performance.now() - t0) });
    };
    const fail = (err) => finish({ ok: false, error: ERRORS[err.code] ?? err.code ?? String(err) });
    const succeed = (text) => {
      try {
        const { backend, sawSource, sawPort, port } = JSON.parse(text);
        finish({ ok: true, backend, sawSource, sawPort, port });
      } catch {
        finish({ ok: false, error: `bad-reply: ${text.slice(0, 80)}` });
      }
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), timeoutMs);
    start({ succeed, fail, finish, onCleanup: (c) => cleanups.push(c) });
  });
}

function tcpRequest({ host, port, timeout }) {
  return attempt(timeout, ({ succeed, fail, finish, onCleanup }) => {
    const sock = net.connect({ host, port });
    onCleanup(() => sock.destroy());
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk) => (data += chunk));
    sock.on('error', fail);
    sock.on('end', () => (data ? succeed(data.trim()) : finish({ ok: false, error: 'no-reply' })));
  });
}

function udpRequest({ host, port, timeout }) {
  return attempt(timeout, ({ succeed, fail, onCleanup }) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    onCleanup(() => sock.close());
    sock.on('error', fail);
    sock.on('message', (msg) => succeed(msg.toString('utf8').trim()));
    // A connected socket gets ICMP port unreachable back as ECONNREFUSED and
    // only accepts replies from the address it sent to, like a real client.
    sock.connect(port, host, () => sock.send('ping\n'));
  });
}

// Runs one job, attempts `concurrency` at a time; replies in attempt order.
async function runJob(job) {
  const request = job.proto === 'udp' ? udpRequest : tcpRequest;
  const replies = new Array(job.count);
  let next = 0;
  const worker = async () => {
    while (next < job.count) {
      const i = next++;
      replies[i] = { i, ...(await request(job)) };
    }
  };
  const workers = Math.max(1, Math.min(job.concurrency, job.count));
  await Promise.all(Array.from({ length: workers }, worker));
  return replies;
}

function checkJob(job) {
  if (!job.host || !job.port) throw new Error('host and port are required');
  if (job.proto !== 'tcp' && job.proto !== 'udp') throw new Error(`bad proto ${job.proto}`);
  return { count: 1, timeout: 1000, concurrency: 8, ...job };
}

function serve() {
  const send = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
  let inFlight = 0;
  let closed = false;
  // Finish the jobs already read before exiting on end of input.
  const maybeExit = () => closed && inFlight === 0 && process.exit(0);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let job;
    try {
      job = JSON.parse(line);
      const checked = checkJob(job);
      inFlight++;
      runJob(checked)
        .then(
          (replies) => send({ id: job.id, replies }),
          (err) => send({ id: job.id, error: String(err) }),
        )
        .finally(() => {
          inFlight--;
          maybeExit();
        });
    } catch (err) {
      send({ id: job?.id ?? null, error: String(err) });
    }
  });
  lines.on('close', () => {
    closed = true;
    maybeExit();
  });
  process.on('SIGTERM', () => process.exit(0));
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--serve') return serve();
  const replies = await runJob(checkJob(parseArgs(argv)));
  for (const r of replies) process.stdout.write(JSON.stringify(r) + '\n');
}

main().catch((err) => {
  process.stderr.write(`echo-client: ${err.stack ?? err}\n`);
  process.exit(2);
});
