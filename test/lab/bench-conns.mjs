// Host bench helper (test/lab/host-bench.mjs): holds TCP connections between two network namespaces, so that
// `netchaos plan --netns …` has a real socket table to read for its blast-radius section.
//   node bench-conns.mjs serve PORT...              listens on [::]:PORT (IPv4 and IPv6) for each PORT
//   node bench-conns.mjs connect N ADDR:PORT...     opens N connections, spread over the targets in turn
//                                                   ([v6]:PORT for IPv6), in batches of 100 (a burst of
//                                                   thousands of SYNs would overflow the listen backlog)
// Each prints "ready" once listening / connected, and exits when its stdin closes (the bench ended, on any
// path: the pipe closes with the bench) or on SIGTERM/SIGINT.
import net from 'node:net';

const [mode, ...rest] = process.argv.slice(2);
const fail = (message) => { console.error(message); process.exit(2); };
const held = [];
const end = () => process.exit(0);
process.stdin.on('end', end);
process.stdin.on('error', end);
process.stdin.resume();
process.on('SIGTERM', end);
process.on('SIGINT', end);

if (mode === 'serve') {
  const ports = rest.map(Number);
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) fail('usage: bench-conns.mjs serve PORT...');
  await Promise.all(ports.map((port) => new Promise((resolve, reject) => {
    const server = net.createServer((s) => { held.push(s); s.on('error', () => {}); });
    server.on('error', reject);
    server.listen({ port, host: '::', ipv6Only: false, backlog: 1024 }, resolve);
  })));
  process.stdout.write('ready\n');
} else if (mode === 'connect') {
  const [countText, ...targetTexts] = rest;
  const count = Number(countText);
  const targets = targetTexts.map((t) => {
    const m = /^(?:\[(.+)\]|([^:[\]]+)):(\d+)$/.exec(t);
    if (!m) fail(`bad target ${t} (ADDR:PORT or [V6]:PORT)`);
    return { host: m[1] ?? m[2], port: Number(m[3]) };
  });
  if (!Number.isInteger(count) || count < 1 || targets.length === 0) fail('usage: bench-conns.mjs connect N ADDR:PORT...');
  const connect = (target) => new Promise((resolve, reject) => {
    const c = net.connect(target, () => resolve(c));
    c.on('error', reject);
    held.push(c);
  });
  for (let done = 0; done < count; done += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - done) }, (_, k) => connect(targets[(done + k) % targets.length])));
  }
  process.stdout.write(`ready ${count}\n`);
} else {
  fail('usage: bench-conns.mjs serve PORT... | connect N ADDR:PORT...');
}
