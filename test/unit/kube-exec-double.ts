/**
 * pods/exec for the API double: a front server that passes every HTTP request through to an ApiDouble and
 * answers `GET /api/v1/namespaces/<ns>/pods/<pod>/exec?command=…` WebSocket upgrades the way the API
 * server does (channel.k8s.io subprotocols: 1 stdout, 2 stderr, 3 the final V1Status). The "container" is
 * this machine: the command's argv is run here for real, so the test sees its real output and exit code.
 * Like the kubelet, it refuses a pod that does not exist, is not Running or has no such container.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call -- API objects are raw JSON here */
import { spawn } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiDouble } from './kube-double.ts';

export interface ExecCall { readonly namespace: string; readonly pod: string; readonly container: string; readonly command: string[] }

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'];

export class ExecFront {
  readonly execs: ExecCall[] = [];
  port = 0;
  private server: Server | undefined;
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered: Set<string>) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  constructor(private readonly api: ApiDouble) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const upstream = request({ host: '127.0.0.1', port: this.api.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => { res.writeHead(502); res.end(); });
      req.pipe(upstream);
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { this.upgrade(req, socket, head); });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => { this.server?.close(() => { resolve(); }); });
  }

  kubeconfig(): string {
    const dir = mkdtempSync(join(tmpdir(), 'netchaos-kube-exec-'));
    const file = join(dir, 'config');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: double',
      'clusters:', '- name: double', '  cluster:', `    server: http://127.0.0.1:${this.port}`, '    insecure-skip-tls-verify: true',
      'users:', '- name: runner', '  user:', '    token: test-token',
      'contexts:', '- name: double', '  context:', '    cluster: double', '    user: runner', '',
    ].join('\n'));
    return file;
  }

  private refuse(socket: Duplex, code: number, message: string): void {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });
    socket.end(`HTTP/1.1 ${code} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (req.headers.authorization !== 'Bearer test-token') { this.refuse(socket, 401, 'Unauthorized'); return; }
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    if (!m) { this.refuse(socket, 404, 'not found'); return; }
    const [, namespace = '', name = ''] = m;
    const container = url.searchParams.get('container') ?? '';
    const command = url.searchParams.getAll('command');
    const pod = this.api.get('pods', namespace, name);
    if (!pod) { this.refuse(socket, 404, `pods "${name}" not found`); return; }
    if (pod['status']?.phase !== 'Running') { this.refuse(socket, 400, `pod ${name} is not running (phase ${String(pod['status']?.phase)})`); return; }
    const names = (pod['spec']?.containers ?? []).map((c: { name: string }) => c.name);
    if (!names.includes(container)) { this.refuse(socket, 400, `container ${container} is not valid for pod ${name}`); return; }
    this.execs.push({ namespace, pod: name, container, command });
    this.wss.handleUpgrade(req, socket, head, (ws) => { this.run(ws, command); });
  }

  private run(ws: WebSocket, argv: string[]): void {
    const [file = '', ...args] = argv;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const send = (channel: number, data: Buffer): void => { if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data])); };
    child.stdout.on('data', (d: Buffer) => { send(1, d); });
    child.stderr.on('data', (d: Buffer) => { send(2, d); });
    ws.on('close', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const finish = (code: number, message?: string): void => {
      const status = code === 0
        ? { metadata: {}, status: 'Success' }
        : { metadata: {}, status: 'Failure', message: message ?? `command terminated with non-zero exit code: error executing command [${argv.join(' ')}]: exit status ${code}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } };
      send(3, Buffer.from(JSON.stringify(status)));
      ws.close();
    };
    child.on('error', (e) => { send(3, Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message: `exec: ${e.message}`, reason: 'InternalError' }))); ws.close(); });
    child.on('close', (code) => { finish(code ?? 137); });
  }
}
