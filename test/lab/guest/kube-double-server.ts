/**
 * Lab side of the Litmus end-to-end tests (runs INSIDE the VM, bundled: .lab-build/kube-double-server.mjs): the
 * Kubernetes API double used by the unit tests (strict: schemas, and the runner's service account with only the RBAC
 * of our rbac.yaml and the ChaosExperiment's permissions, the Role also bound in `shop`), seeded with a ChaosEngine, a
 * target pod whose container is the lab's `app` process, and a Service `shop/b` whose ClusterIP is B's IPv4 address
 * and whose endpoint is B's IPv6 address (there is no kube-proxy in the lab); it writes a kubeconfig, a fake crictl
 * that reports the app process, and a runtime socket into <dir>.
 *
 * Two ways to run it:
 *
 *   node kube-double-server.mjs --serve <control.sock>
 *     one process for the whole suite (its start costs 11-16 s under emulation, once): each test file opens a session
 *     on the control socket (lib.mjs's startApiDouble) with one JSON line {dir, pid, probes?, socket, appV4}, and gets
 *     a fresh double (new store, calls, refusals; new port) seeded as above: `READY <dir>`. Then `mutate` replaces the
 *     objects listed in <dir>/mutate.json (`[{resource, object}]`, as a controller would: a moved endpoint) →
 *     `MUTATED <n>`; `stop` writes <dir>/api-state.json (the API objects, the requests a real apiserver would have
 *     refused, the fields it would have dropped) and ends the session → `STOPPED`. A session whose connection closes
 *     ends too. One session at a time (a lane's files run one after the other): another gets `ERROR busy`.
 *
 *   node kube-double-server.mjs <dir> <app-pid> [<probes.json>]
 *     one session, started at once: prints `READY <dir>`; SIGUSR2 = mutate (`MUTATED <n>`), SIGTERM = stop and exit.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ApiDouble, pod } from '../../unit/kube-double.ts';
import { litmusRunner } from '../../support/apiserver/rbac.ts';

/* eslint-disable @typescript-eslint/no-unsafe-member-access -- API objects are raw JSON here */

const ID = 'a'.repeat(64);

interface SessionOptions { dir: string; pid: number; probes?: string | undefined; socket: string; appV4: string }
interface Session { mutate(): number; stop(): Promise<void> }

async function openSession(o: SessionOptions): Promise<Session> {
  const { dir } = o;
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const api = new ApiDouble();
  api.rbac = litmusRunner({ namespace: 'litmus', alsoIn: ['shop'] });
  await api.start();
  // The engine as the operator runs it: its experiment, with the resilience probes of <probes.json> when given.
  const probes: unknown = o.probes ? JSON.parse(readFileSync(o.probes, 'utf8')) : undefined;
  api.add('chaosengines', { metadata: { name: 'lab-chaos', namespace: 'litmus', uid: 'engine-uid' },
    spec: { engineState: 'active', experiments: [{ name: 'pod-dependency-latency', spec: probes === undefined ? {} : { probe: probes } }] } });
  api.add('pods', pod({ name: 'frontend-1', namespace: 'shop', node: 'lab-node', labels: { app: 'frontend' }, ip: o.appV4,
    owner: { kind: 'ReplicaSet', name: 'frontend-5d8f' }, containerId: `containerd://${ID}` }));
  api.add('services', { metadata: { name: 'b', namespace: 'shop' }, spec: { clusterIP: '192.0.2.11', clusterIPs: ['192.0.2.11'], ports: [{ name: 'http', port: 8080 }] } });
  api.add('endpointslices', { metadata: { name: 'b-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'b' } }, addressType: 'IPv6',
    ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['2001:db8::11'], conditions: { ready: true } }] });

  // A unix socket cannot be bound on the 9p share: it lives on the guest's own /run (tmpfs); one per lab lane, so
  // that two lanes' doubles run side by side.
  mkdirSync(dirname(o.socket), { recursive: true });
  rmSync(o.socket, { force: true });
  const runtime = createServer();
  await new Promise<void>((resolve) => runtime.listen(o.socket, resolve));
  const inspect = {
    status: { id: ID, state: 'CONTAINER_RUNNING', metadata: { name: 'app', attempt: 0 } },
    info: { pid: o.pid, runtimeSpec: { linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: `/proc/${o.pid}/ns/net` }] } } },
  };
  writeFileSync(join(dir, 'inspect.json'), JSON.stringify(inspect));
  writeFileSync(join(dir, 'bin', 'crictl'), `#!/bin/sh
[ "$*" = "--runtime-endpoint unix://${o.socket} inspect --output json ${ID}" ] || { echo "fake crictl: unexpected arguments: $*" >&2; exit 64; }
cat "${join(dir, 'inspect.json')}"
`);
  chmodSync(join(dir, 'bin', 'crictl'), 0o755);
  copyFileSync(api.kubeconfig(), join(dir, 'kubeconfig'));

  let mutations = 0;
  return {
    // A controller's change mid-run (e.g. an EndpointSlice whose endpoint moved): the objects of <dir>/mutate.json replace theirs.
    mutate: () => {
      const list = JSON.parse(readFileSync(join(dir, 'mutate.json'), 'utf8')) as { resource: string; object: { metadata: { namespace?: string; name: string } } }[];
      for (const m of list) {
        api.remove(m.resource, m.object.metadata.namespace, m.object.metadata.name);
        api.add(m.resource, m.object);
      }
      return ++mutations;
    },
    stop: async () => {
      writeFileSync(join(dir, 'api-state.json'), JSON.stringify({
        chaosresult: api.get('chaosresults', 'litmus', 'lab-chaos-pod-dependency-latency'),
        events: api.list('events', 'litmus').map((e) => `${String(e.involvedObject.kind)}/${String(e.reason)}`),
        messages: api.list('events', 'litmus').map((e) => `${String(e.reason)}: ${String(e.message)}`),
        refusals: api.refusals(),
        // What was asked, in order (`verb resource`): the refresh lists the EndpointSlices again during the run.
        requests: api.calls.map((c) => `${c.verb} ${c.resource}`),
        warnings: api.warnings,
      }));
      await new Promise<void>((resolve) => { runtime.close(() => { resolve(); }); });
      await api.stop();
    },
  };
}

/** A session's first line: {dir, pid, probes?, socket, appV4}, checked. */
function sessionOptions(line: string): SessionOptions {
  const o: unknown = JSON.parse(line);
  if (typeof o !== 'object' || o === null) throw new Error('a session starts with a JSON object');
  const { dir, pid, probes, socket, appV4 } = o as Record<string, unknown>;
  if (typeof dir !== 'string' || !dir || typeof pid !== 'number' || !(pid > 0) || typeof socket !== 'string' || typeof appV4 !== 'string'
    || (probes !== undefined && typeof probes !== 'string')) {
    throw new Error(`bad session options: ${line}`);
  }
  return { dir, pid, probes, socket, appV4 };
}

const args = process.argv.slice(2);
if (args[0] === '--serve') {
  const control = args[1];
  if (!control) throw new Error('usage: kube-double-server --serve <control.sock>');
  let busy = false;
  const server = createServer((conn) => {
    conn.setEncoding('utf8');
    if (busy) { conn.end('ERROR busy\n'); return; }
    busy = true;
    let session: Session | undefined;
    let ended = false;
    // Commands are handled one at a time, in order.
    let queue = Promise.resolve();
    const end = async (): Promise<void> => {
      if (ended) return;
      ended = true;
      await session?.stop().catch((e: unknown) => { process.stderr.write(`kube-double-server: ending a session: ${String(e)}\n`); });
      busy = false;
    };
    const handle = async (line: string): Promise<void> => {
      if (ended) return;
      if (!session) {
        const o = sessionOptions(line);
        session = await openSession(o);
        conn.write(`READY ${o.dir}\n`);
      } else if (line === 'mutate') {
        conn.write(`MUTATED ${session.mutate()}\n`);
      } else if (line === 'stop') {
        await end();
        conn.end('STOPPED\n');
      } else {
        throw new Error(`unknown command: ${line}`);
      }
    };
    let buf = '';
    conn.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        queue = queue.then(() => handle(line)).catch(async (e: unknown) => {
          conn.end(`ERROR ${String(e).replace(/\n/g, ' ')}\n`);
          await end();
        });
      }
    });
    conn.on('close', () => { queue = queue.then(end); });
    conn.on('error', () => { /* 'close' follows and ends the session */ });
  });
  // One session opened and stopped before the control socket listens: the first session of a process cost most of the
  // server's start (under TCG 12.7-18.8 s to READY for the first file, 1-4 s for the next; on the host 2.3 s, then
  // 0.2-0.3 s). guest/test.sh starts the server beside the topology and waits for the socket, so the cost is paid there.
  // Its files beside the control socket (under /run in the VM: a unix socket cannot live on the 9p share, where the
  // OS temp dir is when the checkout itself is under /tmp).
  mkdirSync(dirname(control), { recursive: true });
  const warm = mkdtempSync(join(dirname(control), 'warm-'));
  await (await openSession({ dir: warm, pid: process.pid, socket: join(warm, 'runtime.sock'), appV4: '192.0.2.10' })).stop();
  rmSync(warm, { recursive: true, force: true });
  rmSync(control, { force: true });
  await new Promise<void>((resolve) => server.listen(control, resolve));
  process.on('SIGTERM', () => { server.close(); process.exit(0); });
  process.stdout.write(`SERVING ${control}\n`);
} else {
  const [dir = '', pidText = '', probesFile = ''] = args;
  const appPid = Number(pidText);
  if (!dir || !(appPid > 0)) throw new Error('usage: kube-double-server <dir> <app-pid> [<probes.json>] | --serve <control.sock>');
  const session = await openSession({ dir, pid: appPid, probes: probesFile || undefined,
    socket: process.env.NCLAB_LITMUS_SOCKET ?? '/run/nclab-litmus/containerd.sock', appV4: process.env.NCLAB_APP_V4 ?? '192.0.2.10' });
  process.on('SIGUSR2', () => { process.stdout.write(`MUTATED ${session.mutate()}\n`); });
  process.on('SIGTERM', () => { void session.stop().then(() => process.exit(0)); });
  process.stdout.write(`READY ${dir}\n`);
}
