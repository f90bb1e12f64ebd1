/**
 * k8sProbe (litmus-go pkg/probe/k8sprobe.go) and the ChaosEngine reads/patches of the probes, through the
 * generic client (src/kube/dynamic.ts, @kubernetes/client-node's KubeConfig) against the API double: real
 * HTTP, label and field selectors, 404 for a missing object vs an unknown resource type, 403 for RBAC.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument -- API objects are raw JSON here */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeConfigFor } from '../../src/kube/api.ts';
import { createDynamicKube, type DynamicKube } from '../../src/kube/dynamic.ts';
import { prepareProbes, readChaosEngine, stopChaosEngine } from '../../src/probes/index.ts';
import { ApiDouble, pod } from './kube-double.ts';
import { memoryLogger } from '../support/fake-ports.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmdProbe, engine, EXPERIMENT, httpProbe, type Json, k8sProbe, Peer } from './probe-fixtures.ts';

const api = new ApiDouble();
let kube: DynamicKube;
before(async () => {
  await api.start();
  kube = createDynamicKube(await kubeConfigFor({ KUBECONFIG: api.kubeconfig() }));
});
after(async () => { await api.stop(); });
beforeEach(() => {
  for (const p of api.list('pods')) api.remove('pods', p['metadata'].namespace, p['metadata'].name);
  for (const s of api.list('services')) api.remove('services', s['metadata'].namespace, s['metadata'].name);
  api.add('pods', pod({ name: 'web-0', namespace: 'shop', node: 'n1', labels: { app: 'web' } }));
  api.add('pods', pod({ name: 'web-1', namespace: 'shop', node: 'n1', labels: { app: 'web' }, phase: 'Pending' }));
  api.add('pods', pod({ name: 'db-0', namespace: 'shop', node: 'n2', labels: { app: 'db' } }));
  api.forbidden.clear();
});

async function sot(probe: Json) {
  const { log } = memoryLogger();
  const r = prepareProbes(engine([probe]), EXPERIMENT, { log, kube });
  if (!r.ok) assert.fail(r.message);
  const phase = await r.probes.beforeChaos(new AbortController().signal);
  await r.probes.close();
  return { phase, status: r.probes.statuses()[0]!.status };
}

const PODS = { version: 'v1', resource: 'pods', namespace: 'shop' };

describe('present', () => {
  test('by resourceNames: all exist → Passed; one missing → Failed "not found" (litmus-go: an error; see k8s.ts)', async () => {
    assert.equal((await sot(k8sProbe('k', 'SOT', { ...PODS, resourceNames: 'web-0, db-0', operation: 'present' }))).status.verdict, 'Passed');
    const missing = await sot(k8sProbe('k', 'SOT', { ...PODS, resourceNames: 'web-0,web-9', operation: 'present' }));
    assert.deepEqual(missing.status, { verdict: 'Failed', description: 'pods "web-9" not found in namespace shop, but it is expected to be present' });
  });
  test('by label and field selectors: at least one match', async () => {
    assert.equal((await sot(k8sProbe('k', 'SOT', { ...PODS, labelSelector: 'app=web', fieldSelector: 'status.phase=Running', operation: 'present' }))).status.verdict, 'Passed');
    const none = await sot(k8sProbe('k', 'SOT', { ...PODS, labelSelector: 'app=cache', operation: 'present' }));
    assert.deepEqual(none.status, { verdict: 'Failed', description: 'no pods found in namespace shop with the selectors {labelSelector: "app=cache", fieldSelector: ""}' });
    const q = api.calls.filter((c) => c.verb === 'list' && c.resource === 'pods').at(-1)!.query;
    assert.equal(new URLSearchParams(q).get('labelSelector'), 'app=cache');
  });
  test('a cluster-scoped resource (namespace empty) and a resource of a named group', async () => {
    api.add('nodes', { metadata: { name: 'n1', labels: { zone: 'a' } } });
    api.add('endpointslices', { metadata: { name: 'db-x1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4', endpoints: [] });
    assert.equal((await sot(k8sProbe('k', 'SOT', { version: 'v1', resource: 'nodes', labelSelector: 'zone=a', operation: 'present' }))).status.verdict, 'Passed');
    assert.equal((await sot(k8sProbe('k', 'SOT', { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'shop', labelSelector: 'kubernetes.io/service-name=db', operation: 'present' }))).status.verdict, 'Passed');
    assert.deepEqual(api.unexpected, []);
  });
});

describe('absent', () => {
  test('by names and by selectors', async () => {
    assert.equal((await sot(k8sProbe('k', 'SOT', { ...PODS, resourceNames: 'web-7', operation: 'absent' }))).status.verdict, 'Passed');
    const there = await sot(k8sProbe('k', 'SOT', { ...PODS, resourceNames: 'web-7,db-0', operation: 'absent' }));
    assert.deepEqual(there.status, { verdict: 'Failed', description: 'pods "db-0" exists in namespace shop, but it is expected to be absent' });
    assert.equal((await sot(k8sProbe('k', 'SOT', { ...PODS, labelSelector: 'app=cache', operation: 'absent' }))).status.verdict, 'Passed');
    const found = await sot(k8sProbe('k', 'SOT', { ...PODS, labelSelector: 'app=web', operation: 'absent' }));
    assert.match(found.status.description ?? '', /should not exist in namespace shop; found 2: web-0, web-1/);
  });
});

describe('create and delete', () => {
  const SVC = { version: 'v1', resource: 'services', namespace: 'shop', operation: 'create' };
  const data = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: probe-marker\nspec:\n  ports:\n  - port: 80\n';
  test('create makes the object of `data`; creating it again fails (409) as a probe failure', async () => {
    assert.equal((await sot(k8sProbe('c', 'SOT', SVC, { data }))).status.verdict, 'Passed');
    assert.equal(api.get('services', 'shop', 'probe-marker')?.['spec'].ports[0].port, 80);
    const again = await sot(k8sProbe('c', 'SOT', SVC, { data }));
    assert.equal(again.status.verdict, 'Failed');
    assert.match(again.status.description ?? '', /could not create the services of data in namespace shop: .*already exists/);
  });
  test('delete by names (all must exist first: else an error) and by selector (nothing matching: an error)', async () => {
    assert.equal((await sot(k8sProbe('d', 'SOT', { ...PODS, resourceNames: 'db-0', operation: 'delete' }))).status.verdict, 'Passed');
    assert.equal(api.get('pods', 'shop', 'db-0'), undefined);
    const gone = await sot(k8sProbe('d', 'SOT', { ...PODS, resourceNames: 'web-0,db-0', operation: 'delete' }));
    assert.deepEqual(gone.phase, { kind: 'error', probe: 'd', errorCode: 'K8S_PROBE_ERROR', reason: 'cannot delete pods "db-0" in namespace shop: it does not exist' });
    assert.ok(api.get('pods', 'shop', 'web-0'), 'nothing deleted when one name is missing');
    assert.equal((await sot(k8sProbe('d', 'SOT', { ...PODS, labelSelector: 'app=web', operation: 'delete' }))).status.verdict, 'Passed');
    assert.deepEqual(api.list('pods', 'shop'), []);
    const none = await sot(k8sProbe('d', 'SOT', { ...PODS, labelSelector: 'app=web', operation: 'delete' }));
    assert.equal(none.phase.kind, 'error');
  });
});

describe('API problems are probe errors that say what to check', () => {
  test('RBAC (403) names the verb, resource and group', async () => {
    api.forbidden.add('list pods');
    const r = await sot(k8sProbe('k', 'SOT', { ...PODS, labelSelector: 'app=web', operation: 'present' }));
    assert.equal(r.phase.kind, 'error');
    assert.match(r.phase.kind === 'error' ? r.phase.reason : '', /refused to list pods in namespace shop: forbidden \(403, RBAC\)\. Give the runner's service account the verb "list" on "pods" \(apiGroup ""\)/);
  });
  test('a resource type the API does not serve (404 without object details)', async () => {
    const before = api.unexpected.length;
    const r = await sot(k8sProbe('k', 'SOT', { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'shop', resourceNames: 'web', operation: 'present' }));
    assert.equal(r.phase.kind, 'error');
    assert.match(r.phase.kind === 'error' ? r.phase.reason : '', /does not serve deployments\.apps at \/apis\/apps\/v1\/namespaces\/shop\/deployments \(404: unknown group, version or resource/);
    assert.equal(api.unexpected.length, before + 1);
  });
});

describe('deadlines: an API server that does not answer', () => {
  test('the call is cancelled at probeTimeout and the probe fails with a timeout; the token was sent', async () => {
    const hang = await new Peer().start();
    hang.routes.set('/api/v1/namespaces/shop/pods/web-0', () => { /* never answers */ });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'netchaos-hang-'));
      const file = join(dir, 'config');
      writeFileSync(file, ['apiVersion: v1', 'kind: Config', 'current-context: c', 'clusters:', '- name: c', '  cluster:', `    server: ${hang.url('')}`, '    insecure-skip-tls-verify: true',
        'users:', '- name: u', '  user:', '    token: t0k', 'contexts:', '- name: c', '  context:', '    cluster: c', '    user: u', ''].join('\n'));
      const slowKube = createDynamicKube(await kubeConfigFor({ KUBECONFIG: file }));
      const { log } = memoryLogger();
      const r = prepareProbes(engine([k8sProbe('k', 'SOT', { ...PODS, resourceNames: 'web-0', operation: 'present' }, { run: { probeTimeout: '300ms' } })]), EXPERIMENT, { log, kube: slowKube });
      assert.ok(r.ok);
      const t0 = Date.now();
      await r.probes.beforeChaos(new AbortController().signal);
      await r.probes.close();
      assert.ok(Date.now() - t0 < 3000);
      assert.deepEqual(r.probes.statuses()[0]!.status, { verdict: 'Failed', description: 'no result within probeTimeout 300ms (probe failed due to timeout)' });
      assert.equal(hang.hits[0]?.headers.authorization, 'Bearer t0k');
    } finally {
      await hang.stop();
    }
  });
});

describe('the ChaosEngine (probe.go getProbesFromChaosEngine, stopChaosEngine)', () => {
  test('the probes are read from the ChaosEngine through the API, and stopOnFailure can set engineState: stop', async () => {
    const e = engine([httpProbe('front', 'SOT', 'http://front.shop:8080/'), cmdProbe('c', 'EOT', 'true', { type: 'int', criteria: '==', value: '0' })]);
    api.add('chaosengines', e);
    const read = await readChaosEngine(kube, 'litmus', 'shop-chaos');
    const { log } = memoryLogger();
    const r = prepareProbes(read, EXPERIMENT, { log });
    assert.ok(r.ok);
    assert.deepEqual(r.probes.statuses().map((s) => s.name), ['front', 'c']);
    await stopChaosEngine(kube, 'litmus', 'shop-chaos');
    assert.equal(api.get('chaosengines', 'litmus', 'shop-chaos')?.['spec'].engineState, 'stop');
    assert.equal(api.get('chaosengines', 'litmus', 'shop-chaos')?.['spec'].experiments.length, 2, 'a merge patch: the rest of the spec is kept');
    await assert.rejects(readChaosEngine(kube, 'litmus', 'nope'), /ChaosEngine litmus\/nope \(CHAOSENGINE\) was not found/);
  });
});
