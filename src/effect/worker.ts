/**
 * The effect probe, run INSIDE the target's network namespace: `nsenter <ns> -- node <cli> __effect-probe` with the request
 * as JSON on stdin, the samples as JSON on stdout. Standalone on purpose (node: modules only): it is a separate
 * process, and it must not load the rest of netchaos.
 *
 *   tcp:  `samples` connects to address:port, started `gapMs` apart (concurrently, so a 2 s delay does not cost
 *         2 s per sample); the connect time in ms, null when it did not connect before the deadline.
 *   icmp: `ping -n -c <samples> -i 0.2 -W <waitS> -w <deadline>`; the RTT of each echo, null when it got no reply.
 * All destinations run in parallel; the whole probe ends by `budgetMs`.
 */
import net from 'node:net';
import { spawn } from 'node:child_process';
import type { WorkerDestination, WorkerRequest, WorkerResult } from '../model/probe.js';
import { parsePing, pingArgs } from './ping.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function connectOnce(address: string, port: number, timeoutMs: number): Promise<number | string | null> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const sock = net.connect({ host: address, port, noDelay: true });
    const done = (v: number | string | null): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => { done(null); }, Math.max(1, timeoutMs));
    sock.on('error', (e: NodeJS.ErrnoException) => { done(e.code ?? String(e)); });
    sock.on('connect', () => { done(Number(process.hrtime.bigint() - t0) / 1e6); });
  });
}

async function tcp(t: WorkerDestination, deadline: number): Promise<WorkerResult> {
  const errors: Record<string, number> = {};
  const runs = Array.from({ length: t.samples }, async (_, i) => {
    await sleep(i * t.gapMs);
    const r = await connectOnce(t.address, t.port ?? 0, deadline - Date.now());
    if (typeof r === 'string') {
      errors[r] = (errors[r] ?? 0) + 1;
      return null;
    }
    return r;
  });
  return { samples: await Promise.all(runs), errors };
}

function icmp(t: WorkerDestination, deadline: number): Promise<WorkerResult> {
  return new Promise((resolve) => {
    let text = '';
    let failed: string | undefined;
    const p = spawn('ping', pingArgs(t, deadline - Date.now()), { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (c: Buffer) => { text += c.toString(); });
    p.stderr.on('data', (c: Buffer) => { text += c.toString(); });
    p.on('error', (e) => { failed = e.message; });
    p.on('close', () => { resolve(parsePing(text, t.samples, failed)); });
  });
}

export async function runProbe(req: WorkerRequest): Promise<Record<string, WorkerResult>> {
  const deadline = Date.now() + req.budgetMs;
  // The ping processes are started first: spawning one (fork + exec) holds this thread for a while (tens of ms
  // under emulation), and a TCP connect whose 'connect' event waits behind it would be timed as that much slower.
  const pings = new Map(req.destinations.filter((t) => t.kind !== 'tcp').map((t) => [t.id, icmp(t, deadline)]));
  const results = await Promise.all(req.destinations.map((t) => pings.get(t.id) ?? tcp(t, deadline)));
  return Object.fromEntries(req.destinations.map((t, i) => [t.id, results[i] ?? { samples: [], errors: {}, error: 'not run' }]));
}

function isWorkerDestination(t: unknown): t is WorkerDestination {
  if (typeof t !== 'object' || t === null) return false;
  const o = new Map(Object.entries(t));
  return typeof o.get('id') === 'string' && (o.get('kind') === 'tcp' || o.get('kind') === 'icmp') &&
    typeof o.get('address') === 'string' && typeof o.get('samples') === 'number' && typeof o.get('gapMs') === 'number';
}

/** Reads the request on stdin, prints the results on stdout (`netchaos __effect-probe`, see src/cli.ts). */
export async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const parsed: unknown = JSON.parse(input);
  if (typeof parsed !== 'object' || parsed === null || !('budgetMs' in parsed) || !('destinations' in parsed) ||
      typeof parsed.budgetMs !== 'number' || !Array.isArray(parsed.destinations)) {
    throw new Error('worker: bad request');
  }
  const destinations = parsed.destinations.filter(isWorkerDestination);
  process.stdout.write(JSON.stringify(await runProbe({ budgetMs: parsed.budgetMs, destinations })) + '\n');
}
