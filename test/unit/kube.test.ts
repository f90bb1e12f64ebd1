/** The Kubernetes side against an in-process API server, through @kubernetes/client-node and a kubeconfig. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDouble, pod } from './kube-double.ts';
import { fakeDeps, memoryLogger } from '../support/fake-ports.ts';
import { createKubeApi } from '../../src/kube/api.ts';
import type { KubeApi } from '../../src/ports.ts';
import { Rbac, litmusRunner, serviceAccountUser } from '../support/apiserver/rbac.ts';
import { checkHealth, selectTargets } from '../../src/kube/targets.ts';
import { resolvePods, resolveService } from '../../src/kube/dependencies.ts';
import { meshOf, serviceOfHost } from '../../src/kube/mesh.ts';
import { discover } from '../../src/resolve/destinations.ts';
import { liveSources } from '../../src/resolve/live.ts';
import { specOf } from '../support/spec.ts';
import { apiPermissions } from '../../src/kube/permissions.ts';
import { buildLitmusSpec } from '../../src/config/litmus.ts';
import type { LitmusSpec } from '../../src/model/litmus.ts';
import { Stop } from '../../src/model/stop.ts';
import { Reporter } from '../../src/litmus/report.ts';
import type { VariableName } from '../../src/config/vars.ts';

/* eslint-disable @typescript-eslint/no-unsafe-member-access -- API objects are raw JSON here */

const api = new ApiDouble();
// The runner's service account with only what rbac.yaml AND the ChaosExperiment's permissions grant; the
// Role is bound in the targets' and dependencies' namespaces too, as rbac.yaml tells users to.
const runner = litmusRunner({ namespace: 'litmus', alsoIn: ['shop', 'cache'] });
api.rbac = runner;
let kube: KubeApi;

function litmus(env: Partial<Record<VariableName, string>>): LitmusSpec {
  const all: Partial<Record<VariableName, string>> = { NODE_NAME: 'node-a', ...env };
  return buildLitmusSpec({ get: (n) => (all[n] ? { value: all[n], label: n } : undefined) });
}

const seq = (values: number[]) => { let i = 0; return () => values[i++ % values.length]!; };

before(async () => {
  await api.start();
  kube = createKubeApi({ KUBECONFIG: api.kubeconfig() });
});
after(async () => {
  // Every call the code made is listed in src/kube/permissions.ts (what the RBAC Role must grant).
  for (const c of api.calls) {
    assert.ok(apiPermissions.some((p) => p.apiGroup === c.group && p.resource === c.resource && (p.verbs as readonly string[]).includes(c.verb)),
      `${c.verb} ${c.resource}.${c.group} is not in apiPermissions`);
  }
  assert.deepEqual(api.warnings, [], 'no field we send is dropped by the apiserver');
  await api.stop();
});


describe('target selection', () => {
  before(() => {
    const rs = { kind: 'ReplicaSet', name: 'frontend-7d9c8b6f5' };
    api.add('pods', pod({ name: 'frontend-1', namespace: 'shop', node: 'node-a', labels: { app: 'frontend' }, owner: rs, containerId: `containerd://${'a'.repeat(64)}`, containers: ['web', 'sidecar'] }));
    api.add('pods', pod({ name: 'frontend-2', namespace: 'shop', node: 'node-a', labels: { app: 'frontend' }, owner: rs, containerId: `cri-o://${'b'.repeat(64)}`, containers: ['web', 'sidecar'] }));
    api.add('pods', pod({ name: 'frontend-3', namespace: 'shop', node: 'node-b', labels: { app: 'frontend' }, owner: rs, containers: ['web', 'sidecar'] }));
    api.add('pods', pod({ name: 'frontend-old', namespace: 'shop', node: 'node-a', labels: { app: 'frontend' }, owner: rs, phase: 'Succeeded' }));
    api.add('pods', pod({ name: 'db-0', namespace: 'shop', node: 'node-b', labels: { app: 'db' }, owner: { kind: 'StatefulSet', name: 'db' }, ip: '10.244.2.7' }));
    api.add('nodes', { metadata: { name: 'node-a', labels: { chaos: 'yes' } } });
    api.add('nodes', { metadata: { name: 'node-b', labels: {} } });
  });

  test('all matching pods (100%): the ones on this node are targets, the others are listed', async () => {
    const s = await selectTargets({ kube, random: seq([0.5]), stop: new Stop() }, litmus({ TARGETS: 'deployment:shop:[app=frontend]', PODS_AFFECTED_PERC: '100', HELPER_MODE: 'never' }));
    assert.deepEqual(s.here.map((p) => p.name).sort(), ['frontend-1', 'frontend-2']);
    assert.deepEqual(s.skipped, [{ namespace: 'shop', name: 'frontend-3', node: 'node-b' }]);
    assert.deepEqual(s.elsewhere, []);
    assert.equal(s.matched, 3);
    const f1 = s.here.find((p) => p.name === 'frontend-1')!;
    assert.equal(f1.container, 'web');
    assert.equal(f1.containerId, `containerd://${'a'.repeat(64)}`);
    assert.match(api.calls.at(-1)!.query, /labelSelector=app%3Dfrontend/);
  });
  test('PODS_AFFECTED_PERC 0 = one pod, chosen on this node first', async () => {
    const s = await selectTargets({ kube, random: seq([0.99, 0.1]), stop: new Stop() }, litmus({ TARGETS: 'deployment:shop:[app=frontend]' }));
    assert.equal(s.here.length, 1);
    assert.deepEqual(s.elsewhere, []);
  });
  test('by workload name, TARGET_CONTAINER, and the older APP_* form', async () => {
    const s = await selectTargets({ kube, random: seq([0]), stop: new Stop() }, litmus({ TARGETS: 'deployment:shop:[frontend]', TARGET_CONTAINER: 'sidecar', PODS_AFFECTED_PERC: '100' }));
    assert.deepEqual(s.here.map((p) => p.container), ['sidecar', 'sidecar']);
    const old = await selectTargets({ kube, random: seq([0]), stop: new Stop() }, litmus({ APP_NS: 'shop', APP_LABEL: 'app=frontend', APP_KIND: 'deployment', PODS_AFFECTED_PERC: '100' }));
    assert.equal(old.here.length, 2);
    const named = await selectTargets({ kube, random: seq([0]), stop: new Stop() }, litmus({ APP_NS: 'shop', TARGET_PODS: 'frontend-2' }));
    assert.deepEqual(named.here.map((p) => p.name), ['frontend-2']);
  });
  test('the wrong kind matches nothing', async () => {
    await assert.rejects(selectTargets({ kube, random: seq([0]), stop: new Stop() }, litmus({ TARGETS: 'statefulset:shop:[app=frontend]' })), /no pod matches statefulset:shop:\[app=frontend\]: check .*kubectl get pods -n shop -l app=frontend/);
  });
  test('with helper pods (HELPER_MODE auto, the default) the pods on other nodes are targets too, and none here is fine', async () => {
    const s = await selectTargets({ kube, random: seq([0.5]), stop: new Stop() }, litmus({ TARGETS: 'deployment:shop:[app=frontend]', PODS_AFFECTED_PERC: '100' }));
    assert.deepEqual(s.here.map((p) => p.name).sort(), ['frontend-1', 'frontend-2']);
    assert.deepEqual(s.elsewhere.map((p) => [p.name, p.node, p.container, p.containerId]), [['frontend-3', 'node-b', 'web', `containerd://${'0'.repeat(64)}`]]);
    assert.deepEqual(s.skipped, []);
    const db = await selectTargets({ kube, random: seq([0]), stop: new Stop() }, litmus({ TARGETS: 'statefulset:shop:[db]' }));
    assert.deepEqual([db.here.length, db.elsewhere.map((p) => p.name)], [0, ['db-0']]);
  });
  test('none on this node (HELPER_MODE=never): says where they are and how to set the nodeSelector', async () => {
    await assert.rejects(selectTargets({ kube, random: seq([0]), stop: new Stop() }, litmus({ TARGETS: 'statefulset:shop:[db]', HELPER_MODE: 'never' })),
      /shop\/db-0 run on node\(s\) node-b, not on this node node-a.*nodeSelector: \{kubernetes.io\/hostname: node-b\}/);
  });
  test('NODE_LABEL limits the candidates', async () => {
    await assert.rejects(selectTargets({ kube, random: seq([0]), stop: new Stop() }, litmus({ TARGETS: 'pod:shop:[db-0]', NODE_LABEL: 'chaos=yes' })), /no pod matching .* runs on a node labelled chaos=yes/);
  });
  test('a container that is not in the pod', async () => {
    await assert.rejects(selectTargets({ kube, random: seq([0]), stop: new Stop() }, litmus({ TARGETS: 'pod:shop:[frontend-1]', TARGET_CONTAINER: 'nginx' })),
      /pod shop\/frontend-1 has no container "nginx" \(TARGET_CONTAINER\); its containers are: web, sidecar/);
  });
  test('health check: Running and ready', async () => {
    assert.deepEqual(await checkHealth(kube, [{ namespace: 'shop', name: 'frontend-1', node: 'node-a' }]), []);
    api.add('pods', pod({ name: 'sick', namespace: 'shop', node: 'node-a', ready: false }));
    assert.deepEqual(await checkHealth(kube, [{ namespace: 'shop', name: 'sick', node: 'node-a' }, { namespace: 'shop', name: 'gone', node: 'node-a' }]),
      ['shop/sick: container(s) app not ready', 'shop/gone no longer exists']);
  });
});

describe('dependencies as Kubernetes objects', () => {
  before(() => {
    api.add('services', { metadata: { name: 'api', namespace: 'shop' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20', 'fd00::20'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'grpc', port: 9090, targetPort: 'grpc', protocol: 'TCP' }] } });
    api.add('endpointslices', {
      metadata: { name: 'api-x1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'api' } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'grpc', port: 9000, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.244.1.5'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'api-1', namespace: 'shop' } },
        { addresses: ['10.244.2.6'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'api-2', namespace: 'shop' } },
        { addresses: ['10.244.3.7'], conditions: {} },
      ],
    });
    api.add('services', { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432, protocol: 'TCP' }] } });
    api.add('endpointslices', { metadata: { name: 'db-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4', ports: [{ port: 5432 }], endpoints: [{ addresses: ['10.244.2.7'] }] });
    api.add('services', { metadata: { name: 'empty', namespace: 'shop' }, spec: { clusterIP: '10.96.0.30', ports: [{ port: 80 }] } });
    api.add('endpointslices', { metadata: { name: 'empty-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'empty' } }, addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.244.9.9'], conditions: { ready: false } }] });
    api.add('services', { metadata: { name: 'ext', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } });
    api.add('pods', pod({ name: 'cache-0', namespace: 'cache', node: 'node-b', labels: { app: 'cache' }, ip: '10.244.4.4' }));
  });
  const text = (items: readonly { cidr: { address: string; prefix: number }; ports: readonly number[] }[]) => items.map((i) => `${i.cidr.address}/${i.cidr.prefix}|${i.ports.join('|')}`);

  test('a Service: ClusterIPs with Service ports and ready endpoints with target ports', async () => {
    const r = await resolveService(kube, { namespace: 'shop', name: 'api', ports: ['http'] });
    assert.deepEqual(text(r.items), ['10.96.0.20/32|80', 'fd00::20/128|80', '10.244.1.5/32|8080', '10.244.3.7/32|8080']);
    const all = await resolveService(kube, { namespace: 'shop', name: 'api', ports: [] });
    assert.deepEqual(text(all.items), ['10.96.0.20/32|80|9090', 'fd00::20/128|80|9090', '10.244.1.5/32|8080|9000', '10.244.3.7/32|8080|9000']);
    assert.ok(all.details.some((d) => d.includes('pod api-1')));
  });
  test('EndpointSlices forbidden (ChaosCenter\'s litmus-admin ClusterRole, chaoscenter/graphql/server/manifests/cluster/2b_litmus_admin_rbac.yaml, has no discovery.k8s.io nor endpoints): the Service\'s Ready pods by its selector, the same addresses, and a warning', async () => {
    const withPort = (o: Parameters<typeof pod>[0], ready: boolean) => {
      const p = pod({ ...o, labels: { app: 'orders', tier: 'backend' } });
      p.spec.containers[0].ports = [{ name: 'grpc', containerPort: 9000, protocol: 'TCP' }, { name: 'web', containerPort: 8080, protocol: 'TCP' }];
      p.status.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False' }];
      return p;
    };
    api.add('services', { metadata: { name: 'orders', namespace: 'shop' }, spec: { clusterIP: '10.96.0.40', clusterIPs: ['10.96.0.40'], selector: { app: 'orders' }, ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }, { name: 'grpc', port: 9090, targetPort: 9000, protocol: 'TCP' }] } });
    api.add('pods', withPort({ name: 'orders-1', namespace: 'shop', node: 'node-a', ip: '10.244.1.41' }, true));
    api.add('pods', withPort({ name: 'orders-2', namespace: 'shop', node: 'node-b', ip: '10.244.2.42' }, false));
    // What the endpoints controller would publish for it.
    api.add('endpointslices', { metadata: { name: 'orders-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'orders' } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'grpc', port: 9000, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.1.41'], conditions: { ready: true } }, { addresses: ['10.244.2.42'], conditions: { ready: false } }] });
    const exact = await resolveService(kube, { namespace: 'shop', name: 'orders', ports: [] });
    assert.equal(exact.warning, undefined);
    // The rules of litmus-admin that matter here: services and pods, nothing of discovery.k8s.io or endpoints.
    const admin = new Rbac(
      [{ kind: 'ClusterRole', name: 'litmus-admin-cluster-role', rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'deletecollection'] },
        { apiGroups: [''], resources: ['services'], verbs: ['create', 'get', 'list'] },
        { apiGroups: ['litmuschaos.io'], resources: ['chaosengines', 'chaosexperiments', 'chaosresults'], verbs: ['create', 'list', 'get', 'patch', 'update', 'delete'] },
      ] }],
      [{ kind: 'ClusterRoleBinding', name: 'litmus-admin-cluster-role-binding', roleRef: { kind: 'ClusterRole', name: 'litmus-admin-cluster-role' }, subjects: [{ kind: 'ServiceAccount', name: 'litmus-admin', namespace: 'litmus' }] }],
      'litmus-admin');
    api.rbac = { user: serviceAccountUser('litmus', 'litmus-admin'), policies: [admin], serviceAccounts: ['litmus/litmus-admin'] };
    const from = api.calls.length;
    try {
      const r = await resolveService(kube, { namespace: 'shop', name: 'orders', ports: [] });
      assert.deepEqual(text(r.items), text(exact.items));
      assert.deepEqual(text(r.items), ['10.96.0.40/32|80|9090', '10.244.1.41/32|8080|9000']);
      assert.match(r.warning ?? '', /EndpointSlices cannot be listed \(403, e\.g\. ChaosCenter's litmus-admin account\): its endpoints were taken from the Ready pods of its selector app=orders/);
      assert.ok(r.details.some((d) => d === 'endpoint 10.244.1.41 (pod orders-1, by selector) ports 8080,9000'), r.details.join('\n'));
      const only = await resolveService(kube, { namespace: 'shop', name: 'orders', ports: ['grpc'] });
      assert.deepEqual(text(only.items), ['10.96.0.40/32|9090', '10.244.1.41/32|9000']);
      assert.deepEqual(api.calls.slice(from).map((c) => `${c.verb} ${c.resource} ${c.code ?? ''}`), [
        'get services 200', 'list endpointslices 403', 'list pods 200', 'get services 200', 'list endpointslices 403', 'list pods 200',
      ]);
      // A Service without a selector (endpoints managed by hand) cannot be found that way: an error that says what to grant.
      await assert.rejects(resolveService(kube, { namespace: 'shop', name: 'api', ports: [] }), /its EndpointSlices cannot be listed \(403\) and the Service has no selector .*grant "list" on endpointslices.discovery.k8s.io in shop/);
    } finally {
      api.rbac = runner;
      api.remove('services', 'shop', 'orders');
      api.remove('endpointslices', 'shop', 'orders-x');
      api.remove('pods', 'shop', 'orders-1');
      api.remove('pods', 'shop', 'orders-2');
    }
  });
  test('service mesh (litmus-go network-chaos.go isServiceMeshEnabledForPod): istio/envoy/linkerd sidecars (also native sidecars, init containers) and the injectors\' annotations are found', () => {
    const withContainers = (containers: string[], init: string[] = [], annotations: Record<string, string> = {}) => {
      const p = pod({ name: 'x', namespace: 'shop', node: 'node-a', containers });
      p.metadata.annotations = annotations;
      p.spec.initContainers = init.map((name) => ({ name, image: 'registry.example/x:1' }));
      return p;
    };
    assert.equal(meshOf(withContainers(['app', 'istio-proxy'])), 'istio (container istio-proxy)');
    assert.equal(meshOf(withContainers(['app'], ['linkerd-init', 'linkerd-proxy'])), 'linkerd (container linkerd-proxy)');
    assert.equal(meshOf(withContainers(['app', 'envoy'])), 'envoy (container envoy)');
    assert.equal(meshOf(withContainers(['app'], [], { 'sidecar.istio.io/status': '{}' })), 'istio (annotation sidecar.istio.io/status)');
    assert.equal(meshOf(withContainers(['app', 'nginx'])), undefined);
    assert.deepEqual(serviceOfHost('api.shop.svc.cluster.local', [80]), { namespace: 'shop', name: 'api', ports: [80] });
    assert.deepEqual(serviceOfHost('api.shop.svc', []), { namespace: 'shop', name: 'api', ports: [] });
    assert.equal(serviceOfHost('api', []), undefined, 'a short name means what the search list says: not mapped');
    assert.equal(serviceOfHost('payments.example.com', []), undefined);
  });
  test('a target behind a mesh sidecar: a DESTINATION_HOSTS Service name becomes the Service\'s endpoints (ports mapped), in discovery and in the refresh; without a sidecar it is asked from DNS', async () => {
    const spec = specOf({ DESTINATION_HOSTS: 'api.shop.svc.cluster.local|80' });
    // Real API (the double), no DNS: a query would throw.
    const noDns = fakeDeps(undefined, { kube, resolver: () => { throw new Error('no DNS query expected'); } }).deps;
    const found = await discover(noDns, spec, { pid: undefined, mesh: 'istio (container istio-proxy)' });
    assert.deepEqual(found.resolved.map((r) => r.source), ['host api.shop.svc.cluster.local']);
    assert.deepEqual(text(found.resolved[0]!.items), ['10.96.0.20/32|80', 'fd00::20/128|80', '10.244.1.5/32|8080', '10.244.3.7/32|8080']);
    assert.match(found.resolved[0]!.details[0] ?? '', /behind a service-mesh sidecar: Service shop\/api's endpoints/);
    const live = liveSources(noDns, spec, undefined, 'istio (container istio-proxy)');
    assert.deepEqual(live.map((l) => [l.source, l.kind]), [['host api.shop.svc.cluster.local', 'kube']]);
    assert.deepEqual(text((await live[0]!.resolve()).items), text(found.resolved[0]!.items));
    assert.deepEqual(liveSources(noDns, spec, undefined).map((l) => l.kind), ['dns'], 'no sidecar: DNS as always');
  });
  test('a headless Service contributes its endpoints only', async () => {
    const r = await resolveService(kube, { namespace: 'shop', name: 'db', ports: [] });
    assert.deepEqual(text(r.items), ['10.244.2.7/32|5432']);
  });
  test('a Service without ready endpoints, an unknown port, an ExternalName, a missing Service', async () => {
    await assert.rejects(resolveService(kube, { namespace: 'shop', name: 'empty', ports: [] }), /DESTINATION_SERVICES shop\/empty has no ready endpoints \(kubectl get endpointslices -n shop -l kubernetes.io\/service-name=empty\)/);
    await assert.rejects(resolveService(kube, { namespace: 'shop', name: 'api', ports: [443] }), /has no port 443; its ports are 80 \(http\), 9090 \(grpc\)/);
    await assert.rejects(resolveService(kube, { namespace: 'shop', name: 'ext', ports: [] }), /ExternalName .*put db.example.com in DESTINATION_HOSTS/);
    await assert.rejects(resolveService(kube, { namespace: 'shop', name: 'nope', ports: [] }), /get services "nope" in namespace shop: not found \(404\)/);
  });
  test('pods by label', async () => {
    const r = await resolvePods(kube, { namespace: 'cache', pods: { kind: 'labels', labels: 'app=cache' }, ports: [6379] });
    assert.deepEqual(text(r.items), ['10.244.4.4/32|6379']);
    await assert.rejects(resolvePods(kube, { namespace: 'cache', pods: { kind: 'names', names: ['cache-9'] }, ports: [] }), /no Running pod with an IP matches/);
  });
});

describe('ChaosResult and Events', () => {
  before(() => {
    api.add('chaosengines', { metadata: { name: 'shop-chaos', namespace: 'litmus', uid: 'engine-uid-1' }, spec: {} });
  });
  const l = () => litmus({ TARGETS: 'pod:shop:[frontend-1]', CHAOSENGINE: 'shop-chaos', EXPERIMENT_NAME: 'pod-dependency-latency', CHAOS_NAMESPACE: 'litmus', CHAOS_UID: 'engine-uid-1', POD_NAME: 'pod-dependency-latency-abc12' });
  const reporter = () => new Reporter({ api: kube, litmus: l(), log: memoryLogger().log, now: () => 1_700_000_000_000, random: () => 0.5 });

  test('a run creates the result (Running/Awaited), tracks targets and ends Completed/Pass', async () => {
    const r = reporter();
    await r.start();
    let res = api.get('chaosresults', 'litmus', 'shop-chaos-pod-dependency-latency')!;
    assert.deepEqual(res.status.experimentStatus, { phase: 'Running', verdict: 'Awaited', probeSuccessPercentage: 'Awaited' });
    assert.deepEqual(res.spec, { engine: 'shop-chaos', experiment: 'pod-dependency-latency' });
    assert.equal(res.metadata.labels.chaosUID, 'engine-uid-1');
    assert.equal(res.metadata.labels.name, 'shop-chaos-pod-dependency-latency');
    r.setTarget({ name: 'frontend-1', kind: 'pod', chaosStatus: 'injected' });
    r.setTarget({ name: 'frontend-1', kind: 'pod', chaosStatus: 'reverted' });
    r.event('engine', 'ChaosInject', 'Injecting');
    assert.equal((await r.finish({ phase: 'Completed', verdict: 'Pass' }, 5000)).written, true);
    res = api.get('chaosresults', 'litmus', 'shop-chaos-pod-dependency-latency')!;
    assert.deepEqual(res.status.experimentStatus, { phase: 'Completed', verdict: 'Pass', probeSuccessPercentage: '100' });
    assert.deepEqual(res.status.history, { passedRuns: 1, failedRuns: 0, stoppedRuns: 0, targets: [{ name: 'frontend-1', kind: 'pod', chaosStatus: 'reverted' }] });
    const events = api.list('events', 'litmus').map((e) => `${e.involvedObject.kind}/${e.reason}/${e.type}`);
    assert.deepEqual(events, ['ChaosResult/Awaited/Normal', 'ChaosEngine/ChaosInject/Normal', 'ChaosResult/Pass/Normal', 'ChaosEngine/Summary/Normal']);
    const summary = api.list('events', 'litmus').find((e) => e.reason === 'Summary')!;
    assert.equal(summary.message, 'pod-dependency-latency experiment has been Passed');
    assert.equal(summary.involvedObject.uid, 'engine-uid-1');
    assert.equal(summary.source.component, 'pod-dependency-latency-abc12');
  });
  test('the next run keeps the counters; an error clears nothing else and records errorOutput', async () => {
    const r = reporter();
    await r.start();
    let res = api.get('chaosresults', 'litmus', 'shop-chaos-pod-dependency-latency')!;
    assert.equal(res.status.experimentStatus.verdict, 'Awaited');
    assert.equal(res.status.history.passedRuns, 1);
    await r.finish({ phase: 'Error', verdict: 'Error', error: { errorCode: 'TARGET_SELECTION_ERROR', reason: 'no pod matches' } }, 5000);
    res = api.get('chaosresults', 'litmus', 'shop-chaos-pod-dependency-latency')!;
    assert.deepEqual(res.status.experimentStatus.errorOutput, { errorCode: 'TARGET_SELECTION_ERROR', reason: 'no pod matches' });
    assert.deepEqual([res.status.history.passedRuns, res.status.history.failedRuns], [1, 0], 'failedRuns counts Fail only (litmus-go), not Error');
    const last = api.list('events', 'litmus').at(-1)!;
    assert.deepEqual([last.reason, last.type], ['Summary', 'Warning']);
  });
  test('the ChaosResult carries the runner pod\'s labels (replaced on the next run) and chaosUID; Events on it carry its uid (litmus-go pkg/result/chaosresult.go, pkg/types/types.go SetResultEventAttributes)', async () => {
    const name = 'shop-chaos-pod-dependency-latency-labels';
    const runnerPod = (job: string) => pod({ name: 'pod-dependency-latency-abc12', namespace: 'litmus', node: 'node-a', containers: ['pod-dependency-latency'],
      labels: { 'job-name': job, 'controller-uid': `${job}-uid`, name: 'pod-dependency-latency', workflow_run_id: job === 'job-1' ? 'wf-1' : 'wf-2', chaosUID: 'engine-uid-1', ...(job === 'job-1' ? { 'only-first': 'yes' } : {}) } });
    api.add('pods', runnerPod('job-1'));
    try {
      const r = new Reporter({ api: kube, litmus: { ...l(), instanceId: 'labels' }, log: memoryLogger().log, now: () => 1_700_000_000_000, random: () => 0.5 });
      const before = api.list('events', 'litmus').length;
      await r.start();
      let res = api.get('chaosresults', 'litmus', name)!;
      assert.deepEqual(res.metadata.labels, {
        'job-name': 'job-1', 'controller-uid': 'job-1-uid', name: 'pod-dependency-latency', workflow_run_id: 'wf-1', chaosUID: 'engine-uid-1', 'only-first': 'yes',
        'app.kubernetes.io/component': 'experiment-job', 'app.kubernetes.io/part-of': 'litmus',
      });
      assert.equal((await r.finish({ phase: 'Completed', verdict: 'Pass' }, 5000)).written, true);
      const uid: unknown = res.metadata.uid;
      assert.ok(typeof uid === 'string' && uid !== '');
      const onResult = api.list('events', 'litmus').slice(before).filter((e) => e.involvedObject.kind === 'ChaosResult');
      assert.deepEqual(onResult.map((e) => `${e.reason}:${e.involvedObject.name}:${e.involvedObject.uid}`), [`Awaited:${name}:${uid}`, `Pass:${name}:${uid}`]);
      // The next run (another Job): its labels replace the first run's; the existing result's uid is used.
      api.remove('pods', 'litmus', 'pod-dependency-latency-abc12');
      api.add('pods', runnerPod('job-2'));
      const r2 = new Reporter({ api: kube, litmus: { ...l(), instanceId: 'labels' }, log: memoryLogger().log, now: () => 1_700_000_000_001, random: () => 0.25 });
      await r2.start();
      assert.equal((await r2.finish({ phase: 'Completed', verdict: 'Pass' }, 5000)).written, true);
      res = api.get('chaosresults', 'litmus', name)!;
      assert.equal(res.metadata.labels['job-name'], 'job-2');
      assert.equal(res.metadata.labels.workflow_run_id, 'wf-2');
      assert.equal(res.metadata.labels['only-first'], undefined, 'a label of the previous run\'s pod does not stay');
      assert.ok(api.list('events', 'litmus').filter((e) => e.involvedObject.kind === 'ChaosResult').slice(-2).every((e) => e.involvedObject.uid === uid));
    } finally {
      api.remove('pods', 'litmus', 'pod-dependency-latency-abc12');
    }
  });
  test('403 (RBAC): without the rule for creating ChaosResults in rbac.yaml, the create fails and the message says which verb to grant', async () => {
    api.rbac = { ...runner, policies: runner.policies.map((p) => p.without('litmuschaos.io', 'chaosresults', 'create')) };
    try {
      const r = new Reporter({ api: kube, litmus: { ...l(), instanceId: 'x1' }, log: memoryLogger().log, now: Date.now, random: Math.random });
      await assert.rejects(r.start(), (e: Error) => {
        assert.match(e.message, /refused to create chaosresults.litmuschaos.io in namespace litmus: forbidden \(403, RBAC\)\. Give the runner's service account the verb "create" on "chaosresults" \(apiGroup "litmuschaos.io"\)/);
        assert.match(e.message, /API said: chaosresults.litmuschaos.io is forbidden: User "system:serviceaccount:litmus:pod-dependency-latency-sa" cannot create resource "chaosresults" in API group "litmuschaos.io" in the namespace "litmus"$/);
        return true;
      });
      assert.equal(api.get('chaosresults', 'litmus', 'shop-chaos-pod-dependency-latency-x1'), undefined);
    } finally {
      api.rbac = runner;
    }
  });
  test('a ChaosEngine name long enough that the ChaosResult name is no label value (> 63 characters): the result is still created', async () => {
    const engine = 'storefront-checkout-latency-gameday-2025-q3';
    api.add('chaosengines', { metadata: { name: engine, namespace: 'litmus', uid: 'engine-uid-2' }, spec: {} });
    const r = new Reporter({ api: kube, litmus: { ...l(), engine }, log: memoryLogger().log, now: () => 1_700_000_000_000, random: () => 0.5 });
    await r.start();
    const res = api.get('chaosresults', 'litmus', `${engine}-pod-dependency-latency`);
    assert.ok(res, `ChaosResult created; refused: ${api.refusals().join('; ')}`);
    assert.equal(res.metadata.labels.chaosUID, 'engine-uid-1');
    assert.equal(res.metadata.labels.name, undefined, 'no `name` label: the name is too long for a label value');
    assert.equal((await r.finish({ phase: 'Completed', verdict: 'Pass' }, 5000)).written, true);
  });
  test('404 for the resource type: the CRD is not installed', async () => {
    api.notServed.add('chaosengines');
    try {
      await assert.rejects(reporter().start(), /does not serve chaosengines.litmuschaos.io .*Is Litmus installed \(kubectl get crd chaosengines.litmuschaos.io\)\?/);
    } finally {
      api.notServed.delete('chaosengines');
      api.unexpected.length = 0;
    }
  });
  test('nothing unexpected was asked', () => {
    assert.deepEqual(api.unexpected, []);
  });
});
