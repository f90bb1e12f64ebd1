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
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEPS, OUT, CLI, ensureLab, cliExists, cli, hasOurTree, record, LITMUS_SOCKET, startDepsApp } from './lib.mjs';

const PORT = 8080;

let lab;
let double;
let dir;
let PID;

before(async () => {
  assert.ok(cliExists(), `${CLI} is missing`);
  ensureLab();
  lab = await startDepsApp('deps61', { port: PORT });
  ({ pid: PID, dir, api: double } = lab);
});

after(async () => {
  await lab?.stop();
});

test('61. deps in Litmus mode (TARGETS, NODE_NAME; API double, fake crictl): the pod found, its connections to B (service shop/b), C and D (reverse DNS) named', async () => {
  const env = {
    KUBECONFIG: path.join(dir, 'kubeconfig'), PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
    TARGETS: 'deployment:shop:[app=frontend]', NODE_NAME: 'lab-node', CONTAINER_RUNTIME: 'auto', SOCKET_PATH: LITMUS_SOCKET,
  };
  const deps = cli(['deps'], { env });
  writeFileSync(path.join(OUT, 'deps-61-deps.txt'), deps.stdout);
  const json = cli(['deps', '--output', 'json'], { env });
  const state = await double.stop();
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
  assert.deepEqual(state.refusals, [], `requests a real apiserver (schemas, RBAC of our manifests) would have refused${msg}`);
});
