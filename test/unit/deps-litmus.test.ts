/**
 * `netchaos deps` in Litmus mode, against the API double and the fake runtime (crictl): the pods TARGETS
 * selects, read on this node (the recorded /proc/<pid>/net tables of test/unit/fixtures/conns), named by the
 * Services of their namespace, the others listed by node; with only the runner's own permissions.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.ts';
import type { Host } from '../../src/cli/host.ts';
import { createKubeApi, kubeConfigFor } from '../../src/kube/api.ts';
import { createCatalogApi } from '../../src/connections/kube-client.ts';
import { procNetFiles } from '../../src/connections/procnet.ts';
import type { LitmusDepsReport } from '../../src/litmus/deps.ts';
import { litmusRunner } from '../support/apiserver/rbac.ts';
import { ApiDouble, pod } from './kube-double.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { FakeSignals, fakeDeps } from '../support/fake-ports.ts';
import { crictlOnly, fakeRuntime } from '../support/fake-runtime.ts';

const api = new ApiDouble();
api.rbac = litmusRunner({ namespace: 'litmus', alsoIn: ['shop'] });
const dir = mkdtempSync(join(tmpdir(), 'netchaos-deps-litmus-'));
let runtime: Awaited<ReturnType<typeof fakeRuntime>>;
let kubeconfig = '';
const id = (c: string): string => `containerd://${c.repeat(64)}`;
/** The fake crictl's pid for every container is 23917. */
const tables: Record<string, string> = Object.fromEntries(procNetFiles.map((f) => [`/proc/23917/net/${f}`, readFileSync(new URL(`./fixtures/conns/proc-net-${f}.txt`, import.meta.url), 'utf8')]));

before(async () => {
  await api.start();
  kubeconfig = api.kubeconfig();
  runtime = await fakeRuntime(dir);
  const rs = { kind: 'ReplicaSet', name: 'frontend-5d8f' };
  api.add('pods', pod({ name: 'frontend-1', namespace: 'shop', node: 'node-a', labels: { app: 'frontend' }, owner: rs, containerId: id('a') }));
  api.add('pods', pod({ name: 'frontend-2', namespace: 'shop', node: 'node-b', labels: { app: 'frontend' }, owner: rs, containerId: id('b') }));
  api.add('pods', pod({ name: 'frontend-3', namespace: 'shop', node: 'node-c', labels: { app: 'frontend' }, owner: rs, containerId: id('c') }));
  // The fixture's peer 192.0.2.11 is the endpoint of Service b (ClusterIP 198.51.100.11).
  api.add('services', { metadata: { name: 'b', namespace: 'shop' }, spec: { clusterIP: '198.51.100.11', clusterIPs: ['198.51.100.11'], ports: [{ name: 'http', port: 80 }] } });
  api.add('endpointslices', { metadata: { name: 'b-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'b' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['192.0.2.11'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'b-0', namespace: 'shop' } }] });
});
after(async () => {
  assert.deepEqual(api.refusals(), [], 'the runner\'s permissions are enough');
  runtime.close();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function deps(env: Record<string, string>, argv: string[] = []) {
  const f = fakeDeps(new FakeNetns(), { searchPath: runtime.bin, kube: createKubeApi({ KUBECONFIG: kubeconfig }), readText: (p) => tables[p] });
  Object.assign(f.host, { exec: crictlOnly(runtime.bin) });
  const host: Host = {
    ...f.host, signals: new FakeSignals(),
    peerNaming: {
      reverse: () => ({ setServers: () => {}, reverse: () => Promise.reject(Object.assign(new Error('no record'), { code: 'ENOTFOUND' })), cancel: () => {} }),
      catalogApi: async () => createCatalogApi(await kubeConfigFor({ KUBECONFIG: kubeconfig })),
    },
  };
  let stdout = '';
  let stderr = '';
  const code = await run(['deps', ...argv], { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env }, () => host);
  return { code, stdout, stderr };
}

const env = (): Record<string, string> => ({
  KUBECONFIG: kubeconfig, PATH: runtime.bin, TARGETS: 'deployment:shop:[app=frontend]', NODE_NAME: 'node-a', PODS_AFFECTED_PERC: '50',
  CONTAINER_RUNTIME: 'auto', SOCKET_PATH: runtime.socket,
});

describe('netchaos deps in Litmus mode', () => {
  test('the selected pods on this node are read and named; those on other nodes are listed with their node (every candidate, not a draw)', async () => {
    const r = await deps(env());
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'Litmus mode: 3 running pods match the selection (every one, not a PODS_AFFECTED_PERC draw); 1 on this node (node-a), read here.');
    assert.match(r.stdout, /^Connections of pod shop\/frontend-1 \(container app, pid 23917\): 21 sockets \(read from \/proc\/23917\/net\/\{tcp,tcp6,udp,udp6\}\)$/m);
    assert.match(r.stdout, /^ {2}tcp {4}192\.0\.2\.11 +8080 +2 +ESTAB 2 +service shop\/b \(endpoint, pod b-0\)$/m);
    assert.match(r.stdout, /^Pods on other nodes \(2\), not read here: run `netchaos deps` with the same ENV on their node/m);
    assert.deepEqual(lines.slice(-3), ['  shop/frontend-2  node node-b', '  shop/frontend-3  node node-c', '']);
  });

  test('--output json: the pods read, the ones elsewhere; a pod on this node that cannot be read is reported, exit 1', async () => {
    const r = await deps({ ...env(), OUTPUT: 'json' });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as LitmusDepsReport;
    assert.deepEqual([j.mode, j.node, j.matched, j.pods.map((p) => [p.pod, p.container, p.sockets]), j.failed, j.elsewhere],
      ['litmus', 'node-a', 3, [['shop/frontend-1', 'app', 21]], [], [{ pod: 'shop/frontend-2', node: 'node-b' }, { pod: 'shop/frontend-3', node: 'node-c' }]]);
    assert.ok(j.pods[0]?.outbound.some((o) => o.address === '192.0.2.11' && o.name?.kind === 'service'));
    // From node-b's point of view, with a container runtime that does not know the pod: said, and exit 1.
    const broken = await deps({ ...env(), NODE_NAME: 'node-b', SOCKET_PATH: join(dir, 'missing.sock') });
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /^Connections of pod shop\/frontend-2: not read: .*missing\.sock/m);
    assert.match(broken.stdout, /shop\/frontend-1 {2}node node-a/);
  });

  test('bad input is exit 2 before any lookup: no NODE_NAME; a target flag with TARGETS means the flag', async () => {
    const calls = api.calls.length;
    const r = await deps({ ...env(), NODE_NAME: '' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NODE_NAME: unknown node/);
    assert.equal(api.calls.length, calls);
    const none = await deps({ KUBECONFIG: kubeconfig });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /which target\? give --pid <PID>.*or, for the pods of a Litmus experiment, TARGETS/);
    const pid = await deps(env(), ['--pid', '23917']);
    assert.equal(pid.code, 0, pid.stderr);
    assert.match(pid.stdout, /^Connections of pid 23917: 21 sockets/);
  });
});
