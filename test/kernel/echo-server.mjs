#!/usr/bin/env node
// Echo server for kernel tests. Runs inside a pod's network namespace
// (`ip netns exec <ns> node echo-server.mjs ...`) and answers every TCP
// connection / UDP datagram with one JSON line naming itself and the peer
// address it saw, so a test can tell which backend a packet reached and
// whether it was masqueraded on the way.
//
// Usage: echo-server.mjs --name <backend> [--tcp 80,8080] [--udp 53]
//
// Prints {"ready":true,...} on stdout once every listener is bound, so the
// harness need not poll. Exits when stdin closes: the harness keeps a pipe
// open, so a crashed test runner never leaves servers behind.
import net from 'node:net';
import dgram from 'node:dgram';

function parseArgs(argv) {
  const opts = { name: '', tcp: [], udp: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--name') opts.name = value;
    else if (flag === '--tcp' || flag === '--udp') {
      opts[flag.slice(2)] = value.split(',').filter(Boolean).map(Number);
    } else throw new Error(`unknown argument ${flag}`);
  }
  if (!opts.name) throw new Error('--name is required');
  return opts;
}

// IPv4 peers of a dual-stack socket appear as ::ffff:a.b.c.d; tests compare
// against plain IPv4 strings.
function plain(address) {
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

// port is the local port the request arrived on (after any DNAT); sawPort is
// the peer's source port, which tells apart fresh sockets and SNAT.
function answer(name, peer, peerPort, port) {
  return JSON.stringify({ backend: name, sawSource: plain(peer), sawPort: peerPort, port }) + '\n';
}

// Binds `::` (dual-stack, so IPv4 and IPv6 on one socket); falls back to
// 0.0.0.0 on kernels booted without IPv6.
function listenTcp(name, port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      sock.on('error', () => {});
      sock.end(answer(name, sock.remoteAddress, sock.remotePort, port));
    });
    const tryHost = (host, fallback) => {
      server.once('error', (err) => {
        if (fallback && err.code === 'EAFNOSUPPORT') tryHost(fallback, undefined);
        else reject(err);
      });
      server.listen({ port, host, ipv6Only: false }, () => resolve(server));
    };
    tryHost('::', '0.0.0.0');
  });
}

function listenUdp(name, port) {
  const bind = (type, address) =>
    new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type, ipv6Only: false });
      sock.once('error', reject);
      sock.on('message', (_msg, rinfo) => {
        sock.send(answer(name, rinfo.address, rinfo.port, port), rinfo.port, rinfo.address);
      });
      sock.bind({ port, address }, () => {
        sock.removeListener('error', reject);
        sock.on('error', () => {});
        resolve(sock);
      });
    });
  return bind('udp6', '::').catch((err) => {
    if (err.code === 'EAFNOSUPPORT') return bind('udp4', '0.0.0.0');
    throw err;
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  await Promise.all([
    ...opts.tcp.map((p) => listenTcp(opts.name, p)),
    ...opts.udp.map((p) => listenUdp(opts.name, p)),
  ]);
  process.stdout.write(JSON.stringify({ ready: true, name: opts.name, pid: process.pid }) + '\n');
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`echo-server: ${err.stack ?? err}\n`);
  process.exit(1);
});
