// Lab helper for the blast-radius scenario: runs inside the `app` namespace
// (`ip netns exec app setsid node hold-conns.mjs …`) and holds live connections, as an
// application with dependencies B, C and D would, until SIGTERM or --max-seconds.
//
//   hold-conns.mjs [--max-seconds S] [--ready FILE] TARGET ...
//     TARGET: [tcp:|udp:]ADDR:PORT or [tcp:|udp:][V6]:PORT, optionally ×N (`tcp:192.0.2.11:8080x2`)
//     TCP: N connections, each sends a line every 5 s (the echo servers answer), so they stay
//     ESTAB in both kernels' tables; UDP: N connect()ed sockets (ESTAB in /proc/net/udp).
//   Prints "ready" (and writes it to FILE) once every connection is up; exits 1 if one fails.
import net from 'node:net';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
let maxSeconds = 600;
let readyFile;
const targets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--max-seconds') maxSeconds = Number(args[++i]);
  else if (args[i] === '--ready') readyFile = args[++i];
  else targets.push(args[i]);
}
if (targets.length === 0 || !(maxSeconds > 0)) {
  console.error('usage: hold-conns.mjs [--max-seconds S] [--ready FILE] [tcp:|udp:]ADDR:PORT[xN] ...');
  process.exit(2);
}

function parseTarget(t) {
  const m = /^(?:(tcp|udp):)?(?:\[(.+)\]|([^:[\]]+)):(\d+)(?:x(\d+))?$/.exec(t);
  if (!m) throw new Error(`bad target ${t}`);
  return { proto: m[1] ?? 'tcp', host: m[2] ?? m[3], port: Number(m[4]), count: Number(m[5] ?? 1) };
}

const held = [];
const stop = (code) => {
  for (const h of held) {
    if (typeof h.destroy === 'function') h.destroy();
    else h.close();
  }
  process.exit(code);
};
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
setTimeout(() => stop(0), maxSeconds * 1000).unref();

function tcp({ host, port }) {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host, port }, () => {
      c.setNoDelay(true);
      const tick = setInterval(() => c.write('keepalive\n'), 5000);
      tick.unref();
      c.on('close', () => clearInterval(tick));
      resolve();
    });
    c.on('data', () => {});
    c.on('error', (e) => reject(new Error(`tcp ${host}:${port}: ${e.message}`)));
    held.push(c);
  });
}

function udp({ host, port }) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('error', (e) => reject(new Error(`udp ${host}:${port}: ${e.message}`)));
    s.connect(port, host, () => resolve());
    held.push(s);
  });
}

try {
  for (const t of targets.map(parseTarget)) {
    for (let i = 0; i < t.count; i++) await (t.proto === 'udp' ? udp(t) : tcp(t));
  }
} catch (error) {
  console.error(`hold-conns: ${error.message}`);
  stop(1);
}
if (readyFile) writeFileSync(readyFile, 'ready\n');
console.log('ready');
