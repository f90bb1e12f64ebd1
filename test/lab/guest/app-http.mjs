// The target app's own HTTP endpoint for the probe scenarios (runs in the `app` namespace): every request
// opens a TCP connection to B (192.0.2.11:8080) and answers 200 once it is connected — so a delay toward B
// slows this endpoint as a user sees it, from outside, while the app's namespace is the one with the fault.
import { createServer } from 'node:http';
import { connect } from 'node:net';

const port = Number(process.argv[2] ?? 8088);
const [host = '192.0.2.11', depPort = '8080'] = (process.argv[3] ?? '192.0.2.11:8080').split(':');
createServer((req, res) => {
  const s = connect(Number(depPort), host, () => { s.destroy(); res.writeHead(200).end('ok\n'); });
  s.on('error', (e) => { res.writeHead(502).end(`${e.message}\n`); });
}).listen(port, '0.0.0.0', () => { process.stdout.write(`READY ${port}\n`); });
