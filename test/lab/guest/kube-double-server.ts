/**
 * Lab side of the Litmus end-to-end test (runs INSIDE the VM via `node --import tsx`): starts the
 * Kubernetes API double used by the unit tests (strict: schemas, and the runner's service account with only
 * the RBAC of our rbac.yaml and the ChaosExperiment's permissions, the Role also bound in `shop`), seeds it with a ChaosEngine, a target pod whose
 * container is the lab's `app` process, and a Service `shop/b` whose ClusterIP is B's IPv4 address
 * and whose endpoint is B's IPv6 address (there is no kube-proxy in the lab), writes a kubeconfig, a
 * fake crictl that reports the app process, and a runtime socket; prints `READY <dir>`; on SIGTERM
 * writes the API objects, the requests a real apiserver would have refused and the fields it would have
 * dropped to <dir>/api-state.json and exits. On SIGUSR2 it replaces the objects listed in <dir>/mutate.json
 * (`[{resource, object}]`, as a controller would: a moved endpoint) and prints `MUTATED <n>`.
 *
 *   node --import tsx kube-double-server.ts <dir> <app-pid> [<probes.json>]
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ApiDouble, pod } from '../../unit/kube-double.ts';
import { litmusRunner } from '../../support/apiserver/rbac.ts';

/* eslint-disable @typescript-eslint/no-unsafe-member-access -- API objects are raw JSON here */

const [dir = '', pidText = '', probesFile = ''] = process.argv.slice(2);
const appPid = Number(pidText);
if (!dir || !(appPid > 0)) throw new Error('usage: kube-double-server.ts <dir> <app-pid>');
const ID = 'a'.repeat(64);

mkdirSync(join(dir, 'bin'), { recursive: true });
const api = new ApiDouble();
api.rbac = litmusRunner({ namespace: 'litmus', alsoIn: ['shop'] });
await api.start();
// The engine as the operator runs it: its experiment, with the resilience probes of <probes.json> when given.
const probes: unknown = probesFile ? JSON.parse(readFileSync(probesFile, 'utf8')) : undefined;
api.add('chaosengines', { metadata: { name: 'lab-chaos', namespace: 'litmus', uid: 'engine-uid' },
  spec: { engineState: 'active', experiments: [{ name: 'pod-dependency-latency', spec: probes === undefined ? {} : { probe: probes } }] } });
api.add('pods', pod({ name: 'frontend-1', namespace: 'shop', node: 'lab-node', labels: { app: 'frontend' }, ip: process.env.NCLAB_APP_V4 ?? '192.0.2.10',
  owner: { kind: 'ReplicaSet', name: 'frontend-5d8f' }, containerId: `containerd://${ID}` }));
api.add('services', { metadata: { name: 'b', namespace: 'shop' }, spec: { clusterIP: '192.0.2.11', clusterIPs: ['192.0.2.11'], ports: [{ name: 'http', port: 8080 }] } });
api.add('endpointslices', { metadata: { name: 'b-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'b' } }, addressType: 'IPv6',
  ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['2001:db8::11'], conditions: { ready: true } }] });

// A unix socket cannot be bound on the 9p share: it lives on the guest's own /run (tmpfs); one per lab lane
// (NCLAB_LITMUS_SOCKET, from lib.mjs's startApiDouble), so that two lanes' doubles run side by side.
const socket = process.env.NCLAB_LITMUS_SOCKET ?? '/run/nclab-litmus/containerd.sock';
mkdirSync(dirname(socket), { recursive: true });
rmSync(socket, { force: true });
const server = createServer();
await new Promise<void>((resolve) => server.listen(socket, resolve));
const inspect = {
  status: { id: ID, state: 'CONTAINER_RUNNING', metadata: { name: 'app', attempt: 0 } },
  info: { pid: appPid, runtimeSpec: { linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: `/proc/${appPid}/ns/net` }] } } },
};
writeFileSync(join(dir, 'inspect.json'), JSON.stringify(inspect));
writeFileSync(join(dir, 'bin', 'crictl'), `#!/bin/sh
[ "$*" = "--runtime-endpoint unix://${socket} inspect --output json ${ID}" ] || { echo "fake crictl: unexpected arguments: $*" >&2; exit 64; }
cat "${join(dir, 'inspect.json')}"
`);
chmodSync(join(dir, 'bin', 'crictl'), 0o755);
copyFileSync(api.kubeconfig(), join(dir, 'kubeconfig'));

// A controller's change mid-run (e.g. an EndpointSlice whose endpoint moved): the objects of <dir>/mutate.json replace theirs.
let mutations = 0;
process.on('SIGUSR2', () => {
  const list = JSON.parse(readFileSync(join(dir, 'mutate.json'), 'utf8')) as { resource: string; object: { metadata: { namespace?: string; name: string } } }[];
  for (const m of list) {
    api.remove(m.resource, m.object.metadata.namespace, m.object.metadata.name);
    api.add(m.resource, m.object);
  }
  process.stdout.write(`MUTATED ${++mutations}\n`);
});

process.on('SIGTERM', () => {
  writeFileSync(join(dir, 'api-state.json'), JSON.stringify({
    chaosresult: api.get('chaosresults', 'litmus', 'lab-chaos-pod-dependency-latency'),
    events: api.list('events', 'litmus').map((e) => `${String(e.involvedObject.kind)}/${String(e.reason)}`),
    messages: api.list('events', 'litmus').map((e) => `${String(e.reason)}: ${String(e.message)}`),
    refusals: api.refusals(),
    // What was asked, in order (`verb resource`): the refresh lists the EndpointSlices again during the run.
    requests: api.calls.map((c) => `${c.verb} ${c.resource}`),
    warnings: api.warnings,
  }));
  server.close();
  void api.stop().then(() => process.exit(0));
});
process.stdout.write(`READY ${dir}\n`);

