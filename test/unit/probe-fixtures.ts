/** Builders for ChaosEngine probes (the chaos-operator's JSON shape) and a controllable HTTP peer for the probe tests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const EXPERIMENT = 'pod-network-chaos';

export type Json = Record<string, unknown>;

/** A ChaosEngine with these probes on the experiment (and another experiment's probe, which must be ignored). */
export function engine(probes: unknown, o: { experiment?: string; annotations?: Record<string, string> } = {}): Json {
  return {
    apiVersion: 'litmuschaos.io/v1alpha1',
    kind: 'ChaosEngine',
    metadata: { name: 'shop-chaos', namespace: 'litmus', ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      engineState: 'active',
      experiments: [
        { name: 'pod-delete', spec: { probe: [{ name: 'other', type: 'httpProbe', mode: 'SOT', runProperties: { probeTimeout: '1s', interval: '1s' } }] } },
        { name: o.experiment ?? EXPERIMENT, spec: { components: { env: [] }, ...(probes === undefined ? {} : { probe: probes }) } },
      ],
    },
  };
}

export const run = (extra: Json = {}): Json => ({ probeTimeout: '2s', interval: '100ms', ...extra });

export function httpProbe(name: string, mode: string, url: string, extra: { run?: Json; code?: string; criteria?: string; insecure?: boolean; post?: Json } = {}): Json {
  return {
    name, type: 'httpProbe', mode,
    'httpProbe/inputs': {
      url,
      ...(extra.insecure ? { insecureSkipVerify: true } : {}),
      method: extra.post ? { post: extra.post } : { get: { criteria: extra.criteria ?? '==', responseCode: extra.code ?? '200' } },
    },
    runProperties: run(extra.run),
  };
}

export function cmdProbe(name: string, mode: string, command: string, comparator: Json, extra: { run?: Json; source?: Json } = {}): Json {
  return { name, type: 'cmdProbe', mode, 'cmdProbe/inputs': { command, comparator, ...(extra.source ? { source: extra.source } : {}) }, runProperties: run(extra.run) };
}

export function k8sProbe(name: string, mode: string, inputs: Json, extra: { run?: Json; data?: string } = {}): Json {
  return { name, type: 'k8sProbe', mode, 'k8sProbe/inputs': inputs, ...(extra.data !== undefined ? { data: extra.data } : {}), runProperties: run(extra.run) };
}

export function promProbe(name: string, mode: string, endpoint: string, query: string, comparator: Json, extra: { run?: Json } = {}): Json {
  return { name, type: 'promProbe', mode, 'promProbe/inputs': { endpoint, query, comparator }, runProperties: run(extra.run) };
}

export interface Hit { readonly path: string; readonly method: string; readonly at: number; readonly body: string; readonly headers: IncomingMessage['headers'] }

/**
 * An HTTP server whose behaviour the test changes: `delayMs` before answering, `status` to answer, or a
 * handler for one path. Every request is recorded with its arrival time.
 */
export class Peer {
  readonly hits: Hit[] = [];
  delayMs = 0;
  status = 200;
  readonly routes = new Map<string, (req: IncomingMessage, res: ServerResponse, body: string) => void>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const path = req.url ?? '/';
        this.hits.push({ path, method: req.method ?? '', at: Date.now(), body, headers: req.headers });
        const route = this.routes.get(path.split('?')[0] ?? '');
        const answer = (): void => {
          if (res.destroyed) return;
          if (route) { route(req, res, body); return; }
          res.writeHead(this.status, { 'content-type': 'text/plain' });
          res.end('hello');
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs); else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  hitsOn(path: string): Hit[] {
    return this.hits.filter((h) => h.path.split('?')[0] === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => { this.server?.close(() => { resolve(); }); });
  }
}

/** A port nothing listens on (bound then closed). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => { resolve(); }));
  return port;
}
