/**
 * The API double refuses what a real kube-apiserver refuses, in the real shapes, and netchaos's client turns
 * each answer into the message a user would get from a cluster: one part per rule class (schemas, pruning,
 * RBAC, error shapes, selectors and resourceVersion).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { ADMIN_TOKEN, ApiDouble, FixtureError, type Obj, pod } from './kube-double.ts';
import { createKubeApi, KubeError } from '../../src/kube/api.ts';
import type { KubeApi } from '../../src/ports.ts';
import { apiPermissions } from '../../src/kube/permissions.ts';
import { files } from '../../scripts/manifests.ts';
import { Rbac, experimentPermissions, litmusRunner, serviceAccountUser, shippedRbac } from '../support/apiserver/rbac.ts';
import { internalError, tooManyRequests } from '../support/apiserver/status.ts';

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- API objects are raw JSON here */

const api = new ApiDouble();
const runner = litmusRunner({ namespace: 'litmus', alsoIn: ['shop'] });
let kube: KubeApi;

/** A raw request, as curl would send it with the runner's token (or a cluster admin's, as kubectl would). */
async function raw(method: string, path: string, body?: unknown, contentType = 'application/json', as: 'runner' | 'admin' = 'runner'): Promise<{ status: number; headers: Headers; text: string; json: Obj | undefined }> {
  const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
    method, headers: { authorization: `Bearer ${as === 'admin' ? ADMIN_TOKEN : 'test-token'}`, 'content-type': contentType }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Obj | undefined;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** A helper pod as netchaos builds it (litmus/helper-pods.ts), to be broken one field at a time. */
function helper(name = 'runner-1-helper-1'): Obj {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'litmus', labels: { 'app.kubernetes.io/component': 'experiment-job-helper' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'runner-1', uid: 'a0b1c2d3' }] },
    spec: {
      nodeName: 'node-b', hostPID: true, restartPolicy: 'Never', activeDeadlineSeconds: 213, terminationGracePeriodSeconds: 30, automountServiceAccountToken: false,
      containers: [{
        name: 'netchaos-helper', image: 'registry.example/netchaos:1', command: ['netchaos'], args: ['helper'],
        env: [{ name: 'NETCHAOS_HELPER_JOB', value: '{}' }, { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        securityContext: { capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN'] }, runAsUser: 0 },
        volumeMounts: [{ name: 'runtime-socket', mountPath: '/run/containerd/containerd.sock' }],
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
      }],
      volumes: [{ name: 'runtime-socket', hostPath: { path: '/run/containerd/containerd.sock', type: 'Socket' } }],
    },
  };
}

const set = (o: Obj, path: string, value: unknown): Obj => {
  const parts = path.split('.');
  let at: Obj = o;
  for (const p of parts.slice(0, -1)) at = at[p];
  at[parts.at(-1)!] = value;
  return o;
};

before(async () => {
  api.rbac = runner;
  await api.start();
  kube = createKubeApi({ KUBECONFIG: api.kubeconfig() });
  api.add('pods', pod({ name: 'runner-1', namespace: 'litmus', node: 'node-a' }));
  api.add('pods', pod({ name: 'frontend-1', namespace: 'shop', node: 'node-a', labels: { app: 'frontend', tier: 'web', rank: '3' } }));
  api.add('pods', pod({ name: 'db-0', namespace: 'shop', node: 'node-b', labels: { app: 'db', rank: '7' }, ip: '10.244.2.7' }));
  api.add('pods', pod({ name: 'cache-0', namespace: 'shop', node: 'node-b', labels: { tier: 'cache' }, phase: 'Pending' }));
  api.add('chaosengines', { metadata: { name: 'shop-chaos', namespace: 'litmus' }, spec: { jobCleanUpPolicy: 'delete' } });
  api.add('nodes', { metadata: { name: 'node-a', labels: { chaos: 'yes' } } });
  api.add('services', { metadata: { name: 'api', namespace: 'shop' }, spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80 }] } });
  api.namespaces.add('payments');
});
after(async () => { await api.stop(); });

describe('schemas: the Kubernetes OpenAPI definitions, the Litmus CRDs and the apiserver\'s own rules', () => {
  test('a helper pod as netchaos builds it is created (201), with the apiserver\'s defaults', async () => {
    const r = await raw('POST', '/api/v1/namespaces/litmus/pods', helper());
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json?.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(r.json?.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(r.json?.spec.containers[0].env[1].valueFrom.fieldRef, { apiVersion: 'v1', fieldPath: 'spec.nodeName' });
    assert.equal(r.json?.status.phase, 'Pending');
    api.remove('pods', 'litmus', 'runner-1-helper-1');
  });

  const cases: [string, string, unknown, string, string, RegExp][] = [
    ['hostPath type', 'spec.volumes.0.hostPath.type', 'Sock', 'spec.volumes[0].hostPath.type', 'FieldValueNotSupported', /Unsupported value: "Sock": supported values: "", "BlockDevice", .*"Socket"/],
    ['activeDeadlineSeconds 0', 'spec.activeDeadlineSeconds', 0, 'spec.activeDeadlineSeconds', 'FieldValueInvalid', /^Invalid value: 0: must be between 1 and 2147483647, inclusive$/],
    ['terminationMessagePolicy', 'spec.containers.0.terminationMessagePolicy', 'Always', 'spec.containers[0].terminationMessagePolicy', 'FieldValueInvalid', /^Invalid value: "Always": must be 'File' or 'FallbackToLogsOnError'$/],
    ['container name (DNS-1123 label)', 'spec.containers.0.name', 'Netchaos_Helper', 'spec.containers[0].name', 'FieldValueInvalid', /a lowercase RFC 1123 label must consist of/],
    ['missing image', 'spec.containers.0.image', '', 'spec.containers[0].image', 'FieldValueRequired', /^Required value$/],
    ['pod name (DNS-1123 subdomain)', 'metadata.name', 'Runner-1-Helper', 'metadata.name', 'FieldValueInvalid', /a lowercase RFC 1123 subdomain must consist of/],
    ['label value longer than 63', 'metadata.labels.chaosUID', 'x'.repeat(64), 'metadata.labels', 'FieldValueInvalid', /must be no more than 63 characters/],
    ['owner reference without uid', 'metadata.ownerReferences.0.uid', '', 'metadata.ownerReferences.uid', 'FieldValueInvalid', /uid must not be empty/],
    ['env from an unsupported field', 'spec.containers.0.env.1.valueFrom.fieldRef.fieldPath', 'spec.hostname', 'spec.containers[0].env[1].valueFrom.fieldRef.fieldPath', 'FieldValueNotSupported', /Unsupported value: "spec.hostname"/],
    ['volume mount of no volume', 'spec.containers.0.volumeMounts.0.name', 'socket', 'spec.containers[0].volumeMounts[0].name', 'FieldValueNotFound', /^Not found: "socket"$/],
    ['node name', 'spec.nodeName', 'Node_B', 'spec.nodeName', 'FieldValueInvalid', /RFC 1123 subdomain/],
    ['CAP_SYS_ADMIN without privilege escalation', 'spec.containers.0.securityContext', { allowPrivilegeEscalation: false, capabilities: { add: ['CAP_SYS_ADMIN'] } }, 'spec.containers[0].securityContext', 'FieldValueInvalid', /cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN/],
    ['toleration effect', 'spec.tolerations', [{ key: 'dedicated', operator: 'Equal', value: 'chaos', effect: 'NoRun' }], 'spec.tolerations[0].effect', 'FieldValueNotSupported', /Unsupported value: "NoRun"/],
    ['restartPolicy (schema enum)', 'spec.restartPolicy', 'Sometimes', 'spec.restartPolicy', 'FieldValueNotSupported', /Unsupported value: "Sometimes"/],
  ];
  for (const [what, path, value, field, reason, message] of cases) {
    test(`a pod with a bad ${what} is 422 Invalid with the field path`, async () => {
      const r = await raw('POST', '/api/v1/namespaces/litmus/pods', set(helper(), path, value));
      assert.equal(r.status, 422, r.text);
      assert.deepEqual([r.json?.kind, r.json?.apiVersion, r.json?.status, r.json?.reason, r.json?.code], ['Status', 'v1', 'Failure', 'Invalid', 422]);
      const name = path === 'metadata.name' ? value : 'runner-1-helper-1';
      assert.deepEqual([r.json?.details.name, r.json?.details.kind, r.json?.details.group], [name, 'Pod', undefined]);
      const cause = r.json?.details.causes.find((c: Obj) => c.field === field);
      assert.ok(cause, `a cause for ${field} in ${JSON.stringify(r.json?.details.causes)}`);
      assert.equal(cause.reason, reason);
      assert.match(cause.message, message);
      assert.ok(r.json?.message.startsWith(`Pod ${JSON.stringify(name)} is invalid: `), r.json?.message);
      assert.equal(api.get('pods', 'litmus', String(name)), undefined, 'nothing was stored');
    });
  }

  test('through netchaos\'s client a 422 says what was refused and where', async () => {
    const bad = set(helper(), 'spec.activeDeadlineSeconds', 0) as V1Pod;
    await assert.rejects(kube.createPod('litmus', bad), (e: Error) => {
      assert.ok(e instanceof KubeError);
      assert.equal(e.status, 422);
      assert.match(e.message, /^Kubernetes API failed to create pods "runner-1-helper-1" in namespace litmus: HTTP 422\. Pod "runner-1-helper-1" is invalid: spec\.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive$/);
      return true;
    });
  });

  test('a value of the wrong JSON type does not even decode: 400 BadRequest', async () => {
    const r = await raw('POST', '/api/v1/namespaces/litmus/pods', set(helper(), 'spec.activeDeadlineSeconds', '213'));
    assert.equal(r.status, 400);
    assert.equal(r.json?.reason, 'BadRequest');
    assert.equal(r.json?.message, 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64');
  });

  test('an unknown capability passes the apiserver (it checks no names) but the runtime never starts the container', async () => {
    const r = await raw('POST', '/api/v1/namespaces/litmus/pods', set(helper('runner-1-helper-9'), 'spec.containers.0.securityContext.capabilities.add', ['NET_ADMIN', 'NET_SHAPING']));
    assert.equal(r.status, 201, r.text);
    const stored = api.get('pods', 'litmus', 'runner-1-helper-9')!;
    assert.deepEqual(stored.status.containerStatuses[0].state.waiting, { reason: 'CreateContainerError', message: 'netchaos-helper: unknown capability "NET_SHAPING"' });
    api.remove('pods', 'litmus', 'runner-1-helper-9');
  });

  test('Events: the involved object must be in the Event\'s namespace; names are DNS subdomains', async () => {
    const ev = (o: Obj): Obj => ({ metadata: { name: 'shop-chaos.17a2b', namespace: 'litmus' }, involvedObject: { kind: 'ChaosEngine', name: 'shop-chaos', namespace: 'litmus' }, reason: 'Summary', message: 'm', type: 'Normal', ...o });
    assert.equal((await raw('POST', '/api/v1/namespaces/litmus/events', ev({}))).status, 201);
    const other = await raw('POST', '/api/v1/namespaces/litmus/events', ev({ metadata: { name: 'x.1', namespace: 'litmus' }, involvedObject: { kind: 'ChaosEngine', name: 'shop-chaos', namespace: 'shop' } }));
    assert.equal(other.status, 422);
    assert.deepEqual(other.json?.details.causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: "shop": does not match event.namespace', field: 'involvedObject.namespace' }]);
    const upper = await raw('POST', '/api/v1/namespaces/litmus/events', ev({ metadata: { name: 'Shop.1', namespace: 'litmus' } }));
    assert.equal(upper.status, 422);
    assert.equal(upper.json?.details.causes[0].field, 'metadata.name');
  });

  test('custom resources: the real ChaosResult and ChaosEngine CRDs (type, pattern), 422 as the apiserver words it', async () => {
    const result = await raw('POST', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults', { apiVersion: 'litmuschaos.io/v1alpha1', kind: 'ChaosResult', metadata: { name: 'r1' }, spec: 'engine' });
    assert.equal(result.status, 422, result.text);
    assert.equal(result.json?.message, 'ChaosResult.litmuschaos.io "r1" is invalid: spec: Invalid value: "string": spec in body must be of type object: "string"');
    assert.deepEqual(result.json?.details, { name: 'r1', group: 'litmuschaos.io', kind: 'ChaosResult', causes: [{ reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec in body must be of type object: "string"', field: 'spec' }] });
    const engine = await raw('POST', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosengines', { apiVersion: 'litmuschaos.io/v1alpha1', kind: 'ChaosEngine', metadata: { name: 'e1' }, spec: { jobCleanUpPolicy: 'keep' } }, 'application/json', 'admin');
    assert.equal(engine.status, 422, engine.text);
    assert.equal(engine.json?.details.causes[0].field, 'spec.jobCleanUpPolicy');
    assert.match(engine.json?.details.causes[0].message, /spec.jobCleanUpPolicy in body should match '\^\(delete\|retain\)\$'/);
  });

  test('a fixture a cluster could not hold is refused before any test uses it', () => {
    assert.throws(() => api.add('pods', { ...pod({ name: 'x', namespace: 'shop', node: 'node-a' }), spec: { nodeName: 'node-a', containers: [{ name: 'app' }] } }), FixtureError);
    assert.throws(() => api.add('services', { metadata: { name: 'api', namespace: 'shop' }, spec: { ports: [{ port: 80, protcol: 'TCP' }] } }), /unknown field "spec.ports\[0\].protcol"/);
  });
});

describe('pruning: fields outside the schema are dropped, with a warning', () => {
  test('ChaosResult: unknown root and metadata fields are pruned; spec and status are x-kubernetes-preserve-unknown-fields and kept whole', async () => {
    const warningsBefore = api.warnings.length;
    const r = await raw('POST', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults', {
      apiVersion: 'litmuschaos.io/v1alpha1', kind: 'ChaosResult', metadata: { name: 'r2', labels: { name: 'r2' }, owner: 'me' }, verdict: 'Pass',
      spec: { engine: 'shop-chaos', anything: { deep: 1 } }, status: { experimentStatus: { phase: 'Running' }, netchaosEffect: { 'frontend-1': { addedMs: 100 } } },
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.headers.get('warning'), '299 - "unknown field \\"metadata.owner\\"", 299 - "unknown field \\"verdict\\""');
    const stored = api.get('chaosresults', 'litmus', 'r2')!;
    assert.equal(stored['verdict'], undefined);
    assert.equal(stored['metadata']['owner'], undefined);
    assert.deepEqual(stored['spec'], { engine: 'shop-chaos', anything: { deep: 1 } });
    assert.deepEqual(stored['status']['netchaosEffect'], { 'frontend-1': { addedMs: 100 } });
    assert.deepEqual(api.warnings.slice(warningsBefore), ['create chaosresults: unknown field "metadata.owner"', 'create chaosresults: unknown field "verdict"']);
  });

  test('a merge patch that adds an unknown root field: pruned too, and the object is not even changed', async () => {
    const before0 = api.get('chaosresults', 'litmus', 'r2')!['metadata']['resourceVersion'];
    const r = await raw('PATCH', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults/r2', { phase: 'Done' }, 'application/merge-patch+json');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('warning'), '299 - "unknown field \\"phase\\""');
    assert.equal(r.json?.metadata.resourceVersion, before0);
  });

  test('built-in types: a field the type does not have is dropped (fieldValidation=Warn), the rest created', async () => {
    const r = await raw('POST', '/api/v1/namespaces/litmus/pods', set(helper('runner-1-helper-7'), 'spec.containers.0.capabilities', { add: ['NET_ADMIN'] }));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('warning'), '299 - "unknown field \\"spec.containers[0].capabilities\\""');
    assert.equal(api.get('pods', 'litmus', 'runner-1-helper-7')!['spec']['containers'][0]['capabilities'], undefined);
    api.remove('pods', 'litmus', 'runner-1-helper-7');
  });

  test('netchaos\'s client (client-node) already drops unknown fields of typed objects before sending them', async () => {
    const calls = api.calls.length;
    await kube.createPod('litmus', set(helper('runner-1-helper-8'), 'spec.containers.0.capabilities', { add: ['NET_ADMIN'] }));
    const sent = api.calls.slice(calls).find((c) => c.verb === 'create')?.body as Obj;
    assert.equal(sent['spec']['containers'][0]['capabilities'], undefined, 'so a misplaced field is lost silently: only the schema of the type catches it');
    api.remove('pods', 'litmus', 'runner-1-helper-8');
  });
});

describe('RBAC: the runner may do what our manifests grant, nothing else', () => {
  test('every call in src/kube/permissions.ts is allowed by rbac.yaml AND by the experiment\'s permissions, in the ChaosEngine\'s namespace', () => {
    const sa = serviceAccountUser('litmus', 'pod-dependency-latency-sa');
    for (const policy of runner.policies) {
      for (const p of apiPermissions) {
        for (const verb of p.verbs) {
          const d = policy.authorize(sa, { verb, group: p.apiGroup, resource: p.resource, namespace: p.clusterScoped ? undefined : 'litmus', name: undefined });
          assert.ok(d.allowed, `${policy.source}: ${verb} ${p.resource}`);
        }
      }
    }
  });

  test('a verb no manifest grants: 403 in the real Status shape, and netchaos says which rule to add', async () => {
    const r = await raw('POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'x' }, spec: {} });
    assert.equal(r.status, 403);
    assert.deepEqual(r.json, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: { kind: 'services' },
      message: 'services is forbidden: User "system:serviceaccount:litmus:pod-dependency-latency-sa" cannot create resource "services" in API group "" in the namespace "shop"',
    });
    const named = await raw('DELETE', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosengines/shop-chaos');
    assert.equal(named.json?.message, 'chaosengines.litmuschaos.io "shop-chaos" is forbidden: User "system:serviceaccount:litmus:pod-dependency-latency-sa" cannot delete resource "chaosengines" in API group "litmuschaos.io" in the namespace "litmus"');
    assert.deepEqual(named.json?.details, { name: 'shop-chaos', group: 'litmuschaos.io', kind: 'chaosengines' });
  });

  test('namespace scope: the Role is bound only where rbac.yaml is applied, so pods in another namespace cannot be listed', async () => {
    await assert.rejects(kube.listPods('payments', { labelSelector: 'app=api' }), (e: Error) => {
      assert.ok(e instanceof KubeError && e.status === 403);
      assert.match(e.message, /^Kubernetes API refused to list pods in namespace payments: forbidden \(403, RBAC\)\. Give the runner's service account the verb "list" on "pods" \(apiGroup ""\) in its Role/);
      assert.match(e.message, /API said: pods is forbidden: User "system:serviceaccount:litmus:pod-dependency-latency-sa" cannot list resource "pods" in API group "" in the namespace "payments"$/);
      return true;
    });
    assert.equal((await kube.listPods('shop')).length, 3, 'shop has a copy of the Role, as rbac.yaml says to do');
  });

  test('cluster scope: nodes come from the ClusterRole', async () => {
    assert.deepEqual((await kube.listNodes('chaos=yes')).map((n) => n.metadata?.name), ['node-a']);
    const r = await raw('GET', '/api/v1/nodes/node-a');
    assert.equal(r.json?.message, 'nodes "node-a" is forbidden: User "system:serviceaccount:litmus:pod-dependency-latency-sa" cannot get resource "nodes" in API group "" at the cluster scope');
  });

  test('removing a rule from rbac.yaml makes the matching call fail', async () => {
    const text = readFileSync(files.rbac, 'utf8');
    const rule = '  # DESTINATION_SERVICES is set (again every DEPENDENCY_REFRESH_INTERVAL during the run, by the\n  # runner or its helper pods)\n  - apiGroups: [""]\n    resources: ["services"]\n    verbs: ["get"]\n';
    assert.ok(text.includes(rule), 'rbac.yaml has the rule for reading Services');
    assert.equal((await kube.getService('shop', 'api')).spec?.clusterIP, '10.96.0.20');
    api.rbac = { ...runner, policies: [shippedRbac({ namespace: 'litmus', alsoIn: ['shop'], text: text.replaceAll(rule, '') }), experimentPermissions({ namespace: 'litmus' })] };
    try {
      await assert.rejects(kube.getService('shop', 'api'), (e: Error) => {
        assert.equal(e.message, 'Kubernetes API refused to get services "api" in namespace shop: forbidden (403, RBAC). Give the runner\'s service account the verb "get" on "services" (apiGroup "") in its Role (the ChaosExperiment\'s permissions list). API said: services "api" is forbidden: User "system:serviceaccount:litmus:pod-dependency-latency-sa" cannot get resource "services" in API group "" in the namespace "shop"');
        return true;
      });
    } finally {
      api.rbac = runner;
    }
  });

  test('the experiment\'s permissions with scope Namespaced grant nothing outside the ChaosEngine\'s namespace', () => {
    const text = readFileSync(files.experiment, 'utf8').replace('scope: Cluster', 'scope: Namespaced');
    const policy = experimentPermissions({ namespace: 'litmus', text });
    const sa = serviceAccountUser('litmus', 'pod-dependency-latency-sa');
    assert.equal(policy.authorize(sa, { verb: 'list', group: '', resource: 'pods', namespace: 'litmus', name: undefined }).allowed, true);
    assert.equal(policy.authorize(sa, { verb: 'list', group: '', resource: 'pods', namespace: 'shop', name: undefined }).allowed, false);
    assert.equal(policy.authorize(sa, { verb: 'list', group: '', resource: 'nodes', namespace: undefined, name: undefined }).allowed, false, 'a Role cannot grant cluster-scoped resources');
  });

  test('a binding to a Role that does not exist: the reason says so', () => {
    const rbac = Rbac.fromYaml([
      'apiVersion: rbac.authorization.k8s.io/v1', 'kind: RoleBinding', 'metadata: {name: b, namespace: litmus}',
      'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: missing}', 'subjects: [{kind: ServiceAccount, name: sa, namespace: litmus}]',
    ].join('\n'), 'test');
    assert.deepEqual(rbac.authorize(serviceAccountUser('litmus', 'sa'), { verb: 'get', group: '', resource: 'pods', namespace: 'litmus', name: 'x' }),
      { allowed: false, reason: 'RBAC: role.rbac.authorization.k8s.io "missing" not found' });
  });

  test('ServiceAccount admission: a helper pod naming a service account that does not exist is refused', async () => {
    const r = await raw('POST', '/api/v1/namespaces/litmus/pods', set(helper('runner-1-helper-5'), 'spec.serviceAccountName', 'chaos-sa'));
    assert.equal(r.status, 403);
    assert.equal(r.json?.message, 'pods "runner-1-helper-5" is forbidden: error looking up service account litmus/chaos-sa: serviceaccount "chaos-sa" not found');
  });
});

describe('error shapes, and what netchaos makes of them', () => {
  test('404 for a missing object: a NotFound Status with details; netchaos reads it as "gone"', async () => {
    const r = await raw('GET', '/api/v1/namespaces/litmus/pods/nope');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'pods' }, code: 404 });
    assert.equal(await kube.getPod('litmus', 'nope'), undefined);
    assert.equal(await kube.getChaosResult('litmus', 'nope'), undefined);
  });

  test('404 for a resource type nobody serves (CRD not installed, unknown group): plain "404 page not found", after RBAC', async () => {
    const r = await raw('GET', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosexperiments/pod-dependency-latency', undefined, 'application/json', 'admin');
    assert.deepEqual([r.status, r.headers.get('content-type'), r.text], [404, 'text/plain; charset=utf-8', '404 page not found\n']);
    // Authorization comes first: a type the account may not read is a 403 whether it exists or not.
    const unknown = await raw('GET', '/apis/chaos-mesh.org/v1alpha1/namespaces/litmus/networkchaos');
    assert.equal(unknown.status, 403);
    assert.equal(unknown.json?.message, 'networkchaos.chaos-mesh.org is forbidden: User "system:serviceaccount:litmus:pod-dependency-latency-sa" cannot list resource "networkchaos" in API group "chaos-mesh.org" in the namespace "litmus"');
    assert.equal((await raw('GET', '/apis/chaos-mesh.org/v1alpha1/namespaces/litmus/networkchaos', undefined, 'application/json', 'admin')).text, '404 page not found\n');
    api.notServed.add('chaosresults');
    try {
      await assert.rejects(kube.getChaosResult('litmus', 'x'), /Kubernetes API does not serve chaosresults.litmuschaos.io \(404: resource type unknown\) for get chaosresults.litmuschaos.io "x" in namespace litmus\. Is Litmus installed \(kubectl get crd chaosresults.litmuschaos.io\)\? 404 page not found$/);
    } finally {
      api.notServed.delete('chaosresults');
    }
    api.unexpected.length = 0;
  });

  test('409 AlreadyExists on a second create', async () => {
    const body = { apiVersion: 'litmuschaos.io/v1alpha1', kind: 'ChaosResult', metadata: { name: 'r3', namespace: 'litmus' }, spec: {} };
    await kube.createChaosResult('litmus', body);
    const r = await raw('POST', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults', body);
    assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'chaosresults.litmuschaos.io "r3" already exists', reason: 'AlreadyExists', details: { name: 'r3', group: 'litmuschaos.io', kind: 'chaosresults' }, code: 409 });
    await assert.rejects(kube.createChaosResult('litmus', body), /Kubernetes API failed to create chaosresults.litmuschaos.io in namespace litmus: HTTP 409\. chaosresults.litmuschaos.io "r3" already exists$/);
  });

  test('409 Conflict: a patch whose resourceVersion precondition is stale', async () => {
    const r = await raw('PATCH', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults/r3', { metadata: { resourceVersion: '1' }, status: { x: 1 } }, 'application/merge-patch+json');
    assert.equal(r.status, 409);
    assert.equal(r.json?.reason, 'Conflict');
    assert.equal(r.json?.message, 'Operation cannot be fulfilled on chaosresults.litmuschaos.io "r3": the object has been modified; please apply your changes to the latest version and try again');
  });

  test('410 Expired: a list at a compacted resourceVersion, or an expired continue token', async () => {
    const first = await raw('GET', '/api/v1/namespaces/shop/pods?limit=1');
    assert.equal(first.json?.items.length, 1);
    assert.equal(first.json?.metadata.remainingItemCount, 2);
    const rv = Number(first.json?.metadata.resourceVersion);
    api.compactedRevision = rv + 1;
    try {
      const exact = await raw('GET', `/api/v1/namespaces/shop/pods?resourceVersion=${rv}&resourceVersionMatch=Exact`);
      assert.deepEqual([exact.status, exact.json?.reason, exact.json?.message], [410, 'Expired', 'The resourceVersion for the provided list is too old.']);
      const next = await raw('GET', `/api/v1/namespaces/shop/pods?limit=1&continue=${encodeURIComponent(String(first.json?.metadata.continue))}`);
      assert.deepEqual([next.status, next.json?.reason], [410, 'Expired']);
      assert.match(next.json?.message, /^The provided continue parameter is too old/);
    } finally {
      api.compactedRevision = 0;
    }
  });

  test('429 from API Priority and Fairness: plain text with Retry-After; netchaos says the API server is throttling', async () => {
    api.failNext({ verb: 'list', resource: 'pods', answer: tooManyRequests(2) });
    const r = await raw('GET', '/api/v1/namespaces/shop/pods');
    assert.deepEqual([r.status, r.headers.get('retry-after'), r.text], [429, '2', 'Too many requests, please try again later.\n']);
    api.failNext({ verb: 'list', resource: 'pods', answer: tooManyRequests(3) });
    await assert.rejects(kube.listPods('shop'), (e: Error) => {
      assert.ok(e instanceof KubeError && e.status === 429);
      assert.equal(e.message, 'Kubernetes API is throttling requests (429 Too Many Requests, retry after 3 s) and refused to list pods in namespace shop: Too many requests, please try again later.');
      return true;
    });
  });

  test('500 InternalError: a Status with the cause; netchaos passes the API server\'s words on', async () => {
    api.failNext({ verb: 'get', resource: 'services', answer: internalError('etcdserver: request timed out') });
    await assert.rejects(kube.getService('shop', 'api'), (e: Error) => {
      assert.ok(e instanceof KubeError && e.status === 500);
      assert.equal(e.message, 'Kubernetes API failed to get services "api" in namespace shop: HTTP 500. Internal error occurred: etcdserver: request timed out');
      return true;
    });
  });

  test('401 for a wrong token, 415 for a patch that is not a merge patch', async () => {
    const r = await fetch(`http://127.0.0.1:${api.port}/api/v1/namespaces/shop/pods`, { headers: { authorization: 'Bearer wrong' } });
    assert.deepEqual([r.status, ((await r.json()) as Obj)['reason']], [401, 'Unauthorized']);
    const p = await raw('PATCH', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults/r3', { status: {} }, 'application/json');
    assert.deepEqual([p.status, p.json?.reason], [415, 'UnsupportedMediaType']);
    // netchaos with an expired token, and with an API server that is not there.
    const config = (edit: (text: string) => string): KubeApi => {
      const file = join(mkdtempSync(join(tmpdir(), 'netchaos-kube-')), 'config');
      writeFileSync(file, edit(readFileSync(api.kubeconfig(), 'utf8')));
      return createKubeApi({ KUBECONFIG: file });
    };
    await assert.rejects(config((t) => t.replace('token: test-token', 'token: expired')).listPods('shop'),
      // client-node drops the body of a 401 (the apiserver's Status says only "Unauthorized").
      /^KubeError: Kubernetes API refused to list pods in namespace shop: not authenticated \(401\)\. Check the service account token or KUBECONFIG\.$/);
    await assert.rejects(config((t) => t.replace(`127.0.0.1:${api.port}`, '127.0.0.1:9')).listPods('shop'),
      /cannot reach the Kubernetes API to list pods in namespace shop: .*Check the API server address and the network policy of the runner\./);
  });
});

describe('selectors and resourceVersion', () => {
  const names = async (query: string): Promise<string[] | string> => {
    const r = await raw('GET', `/api/v1/namespaces/shop/pods?${query}`);
    return r.status === 200 ? (r.json?.items as Obj[]).map((i) => String(i['metadata']['name'])).sort() : `${r.status} ${String(r.json?.message)}`;
  };
  test('label selectors: equality- and set-based', async () => {
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('app in (frontend,db)')}`), ['db-0', 'frontend-1']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('app notin (db),tier')}`), ['cache-0', 'frontend-1']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('!app')}`), ['cache-0']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('app!=db')}`), ['cache-0', 'frontend-1']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('rank>4')}`), ['db-0']);
    assert.match(String(await names(`labelSelector=${encodeURIComponent('app in frontend')}`)), /^400 found 'frontend', expected: '\('/);
    assert.match(String(await names(`labelSelector=${encodeURIComponent('app=web front')}`)), /^400 found 'front', expected: ',' or 'end of string'/);
  });
  test('field selectors: the fields the resource supports, 400 for others', async () => {
    assert.deepEqual(await names('fieldSelector=status.phase%3DRunning,spec.nodeName%3Dnode-b'), ['db-0']);
    assert.deepEqual(await names('fieldSelector=metadata.name%3Dfrontend-1'), ['frontend-1']);
    assert.deepEqual(await names('fieldSelector=status.phase!%3DRunning'), ['cache-0']);
    assert.equal(await names('fieldSelector=spec.hostname%3Dx'), '400 field label not supported: spec.hostname');
    assert.equal(await names('fieldSelector=phase'), "400 invalid selector: 'phase'; can't understand 'phase'");
  });
  test('resourceVersion: bumped on every change only; a list reports the current one', async () => {
    const a = await raw('POST', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults', { apiVersion: 'litmuschaos.io/v1alpha1', kind: 'ChaosResult', metadata: { name: 'r4' }, spec: {} });
    assert.equal(a.status, 201, a.text);
    const same = await raw('PATCH', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults/r4', { spec: {} }, 'application/merge-patch+json');
    assert.equal(same.status, 200, same.text);
    assert.equal(same.json?.metadata.resourceVersion, a.json?.metadata.resourceVersion);
    const changed = await raw('PATCH', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults/r4', { status: { phase: 'Running' } }, 'application/merge-patch+json');
    assert.ok(Number(changed.json?.metadata.resourceVersion) > Number(a.json?.metadata.resourceVersion));
    assert.equal(changed.json?.metadata.generation, 2, 'no status subresource: a status change is a new generation');
    const list = await raw('GET', '/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults', undefined, 'application/json', 'admin');
    assert.equal(list.json?.metadata.resourceVersion, changed.json?.metadata.resourceVersion);
    const ahead = await raw('GET', `/apis/litmuschaos.io/v1alpha1/namespaces/litmus/chaosresults?resourceVersion=${Number(list.json?.metadata.resourceVersion) + 5}`, undefined, 'application/json', 'admin');
    assert.deepEqual([ahead.status, ahead.json?.reason], [504, 'Timeout']);
  });
});
