// `netchaos deps` in Litmus mode on a real kernel (runs INSIDE the lab VM only): the application in `app`
// holds live connections to B, C and D (hold-conns.mjs, in its own mount namespace whose /etc/resolv.conf
// names a dnsmasq on 192.0.2.1 that knows c.lab.test and d.lab.test, PTR records included); the Kubernetes
// API double (kube-double-server.ts, the runner's RBAC only) has the pod shop/frontend-1 on lab-node whose
// container is that process (fake crictl), and a Service shop/b whose ClusterIP is B's address.
//   61. `netchaos deps` with TARGETS and NODE_NAME (no target flag) finds the pod through the API and the
//       runtime, reads its sockets and names all three: B through the API (service shop/b), C and D through
//       reverse DNS with the app's own resolver; --output json says the same.
// The outputs are kept in $NCLAB_OUT/deps-61-*.txt (the README quotes them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEPS, OUT, CLI, GUEST_DIR, REPO, ensureLab, cliExists, cli, run, mustRun, hasOurTree, sleep, record } from './lib.mjs';

const DNS = '192.0.2.1';
const HOSTS = path.join(OUT, 'deps61-hosts');
const RESOLV = path.join(OUT, 'deps61-resolv.conf');
const PORT = 8080;

let dnsmasq;
let holder;
let double;
let dir;
let PID;

before(async () => {
  assert.ok(cliExists(), `${CLI} is missing`);
  ensureLab();
  mustRun('ip', ['addr', 'add', `${DNS}/24`, 'dev', 'br0']);
  writeFileSync(HOSTS, `${DEPS.C.v4} c.lab.test\n${DEPS.D.v4} d.lab.test\n`);
  writeFileSync(RESOLV, `nameserver ${DNS}\nsearch lab.test\noptions timeout:1 attempts:2\n`);
  dnsmasq = spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${HOSTS}`,
    '--bind-interfaces', `--listen-address=${DNS}`, '--port=53', '--user=root', '--pid-file=', `--log-facility=${path.join(OUT, 'deps61-dnsmasq.log')}`], { stdio: 'ignore' });
  const ready = path.join(OUT, 'deps61-ready');
  run('rm', ['-f', ready]);
  holder = spawn('ip', ['netns', 'exec', 'app', 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
    'mount --bind "$1" /etc/resolv.conf && shift && exec node "$@"', 'sh', RESOLV, path.join(GUEST_DIR, 'hold-conns.mjs'), '--max-seconds', '600', '--ready', ready,
    `tcp:${DEPS.B.v4}:${PORT}`, `tcp:${DEPS.C.v4}:${PORT}`, `tcp:${DEPS.D.v4}:${PORT}`], { stdio: 'ignore', detached: true });
  PID = holder.pid;
  for (let i = 0; i < 300; i++) {
    try { if (readFileSync(ready, 'utf8').includes('ready')) break; } catch { /* not yet */ }
    await sleep(100);
  }
  assert.match(readFileSync(ready, 'utf8'), /ready/, 'hold-conns connected to B, C and D');
  dir = mkdtempSync(path.join(OUT, 'deps61-'));
  double = spawn('node', ['--import', 'tsx', path.join(GUEST_DIR, 'kube-double-server.ts'), dir, String(PID)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    double.stdout.on('data', (c) => { out += c; if (out.includes('READY')) resolve(); });
    double.on('exit', (code) => reject(new Error(`the API double exited with ${code} before it was ready`)));
  });
});

after(async () => {
  try { process.kill(-holder.pid, 'SIGTERM'); } catch { /* gone */ }
  dnsmasq?.kill('SIGTERM');
  if (double && double.exitCode === null) {
    double.kill('SIGTERM');
    await new Promise((resolve) => double.on('exit', resolve));
  }
  run('ip', ['addr', 'del', `${DNS}/24`, 'dev', 'br0']);
});

test('61. deps in Litmus mode (TARGETS, NODE_NAME; API double, fake crictl): the pod found, its connections to B (service shop/b), C and D (reverse DNS) named', async () => {
  const env = {
    KUBECONFIG: path.join(dir, 'kubeconfig'), PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
    TARGETS: 'deployment:shop:[app=frontend]', NODE_NAME: 'lab-node', CONTAINER_RUNTIME: 'auto', SOCKET_PATH: '/run/nclab-litmus/containerd.sock',
  };
  const deps = cli(['deps'], { env });
  writeFileSync(path.join(OUT, 'deps-61-deps.txt'), deps.stdout);
  const json = cli(['deps', '--output', 'json'], { env });
  double.kill('SIGTERM');
  const measured = { depsMs: Math.round(deps.ms), jsonMs: Math.round(json.ms) };
  record('61. deps in Litmus mode', measured);
  const msg = `\n--- deps:\n${deps.stdout}${deps.stderr}\n--- json stderr:\n${json.stderr}`;
  assert.equal(deps.code, 0, msg);
  assert.match(deps.stdout, /^Litmus mode: 1 running pod matches the selection .*; 1 on this node \(lab-node\), read here\./, msg);
  assert.match(deps.stdout, new RegExp(`^Connections of pod shop/frontend-1 \\(container app, pid ${PID}\\): \\d+ sockets? \\(read from /proc/${PID}/net/`, 'm'), msg);
  const row = (addr) => deps.stdout.split('\n').find((l) => new RegExp(`^\\s+tcp\\s+${addr.replaceAll('.', '\\.')}\\s+${PORT}\\s`).test(l)) ?? '';
  assert.match(row(DEPS.B.v4), /service shop\/b \(ClusterIP\)/, msg);
  assert.match(row(DEPS.C.v4), /c\.lab\.test \(reverse DNS\)/, msg);
  assert.match(row(DEPS.D.v4), /d\.lab\.test \(reverse DNS\)/, msg);
  assert.equal(json.code, 0, msg);
  const j = JSON.parse(json.stdout);
  assert.deepEqual([j.mode, j.node, j.matched, j.failed, j.elsewhere, j.pods.map((p) => p.pod)], ['litmus', 'lab-node', 1, [], [], ['shop/frontend-1']], msg);
  const named = Object.fromEntries(j.pods[0].outbound.filter((g) => g.port === PORT).map((g) => [g.address, g.name]));
  assert.deepEqual(named[DEPS.B.v4], { kind: 'service', namespace: 'shop', name: 'b', via: 'ClusterIP' }, msg);
  assert.equal(named[DEPS.C.v4]?.name, 'c.lab.test', msg);
  assert.equal(named[DEPS.D.v4]?.name, 'd.lab.test', msg);
  assert.ok(!hasOurTree(), 'deps changes nothing');
  if (double.exitCode === null) await new Promise((resolve) => double.on('exit', resolve));
  const state = JSON.parse(readFileSync(path.join(dir, 'api-state.json'), 'utf8'));
  assert.deepEqual(state.refusals, [], `requests a real apiserver (schemas, RBAC of our manifests) would have refused${msg}`);
});
