// Line echo server for the lab's dependency namespaces: listens on every
// port given on the command line (dual-stack) and answers each line with
// "<port> <line>". Usage: node echo-server.mjs 8080 9090
import net from 'node:net';

const ports = process.argv.slice(2).map(Number);
if (ports.length === 0 || ports.some((p) => !Number.isInteger(p))) {
  console.error('usage: echo-server.mjs <port>...');
  process.exit(2);
}
for (const port of ports) {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf = '';
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        sock.write(`${port} ${buf.slice(0, nl)}\n`);
        buf = buf.slice(nl + 1);
      }
    });
    sock.on('error', () => {});
  });
  server.listen({ port, host: '::', ipv6Only: false }, () => {
    console.log(`echo-server listening on ${port}`);
  });
}
