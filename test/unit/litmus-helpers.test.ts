/**
 * `netchaos run` with targets on several nodes, against the API double: the runner creates one helper pod
 * per node and a fake kubelet runs each one's `netchaos helper` in-process (its own fake namespace, the
 * pod's env), so the job and the result really make the round trip. Checks the pod specs, the ChaosResult,
 * that every helper is deleted on success, failure and abort, bounded waits, and SEQUENCE.
 */
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.ts';
import { createKubeApi } from '../../src/kube/api.ts';
import { apiPermissions } from '../../src/kube/permissions.ts';
import { type HelperJob, type HelperResult, BLAST_BUDGET, JOB_ENV, decodeJob, decodeResult, encodeResult } from '../../src/litmus/helper-job.ts';
import { type BlastStatus, HELPER_ROWS } from '../../src/litmus/blast-report.ts';
import { procNetFiles } from '../../src/connections/procnet.ts';
import { helperHostPaths, helperName, observe, readRunnerPod } from '../../src/litmus/helper-pods.ts';
import type { TargetPod } from '../../src/model/kube.ts';
import { buildLitmusSpec } from '../../src/config/litmus.ts';
import { litmusRunner } from '../support/apiserver/rbac.ts';
import { ApiDouble, type Obj, pod } from './kube-double.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { FakeClock, fakeDeps } from '../support/fake-ports.ts';
import { crictlOnly, fakeRuntime } from '../support/fake-runtime.ts';

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-class-instance-assignment -- API objects are raw JSON here */

const api = new ApiDouble();
/** The recorded /proc/<pid>/net tables of test/unit/fixtures/conns, as the fake crictl's pid (23917) shows them. */
const connTables: Record<string, string> = Object.fromEntries(procNetFiles.map((f) => [`/proc/23917/net/${f}`, readFileSync(new URL(`./fixtures/conns/proc-net-${f}.txt`, import.meta.url), 'utf8')]));
// The runner's service account with only what rbac.yaml AND the ChaosExperiment's permissions grant (the Role
// also bound in the targets' namespace, as rbac.yaml tells users to).
api.rbac = litmusRunner({ namespace: 'litmus', alsoIn: ['shop'] });
const dir = mkdtempSync(join(tmpdir(), 'netchaos-helpers-'));
let runtime: Awaited<ReturnType<typeof fakeRuntime>>;
let kubeconfig = '';
const id = (c: string): string => `containerd://${c.repeat(64)}`;

/** A clock whose sleeps only end when aborted: the helper stays in its chaos wait until SIGTERM. */
class FrozenClock extends FakeClock {
  override sleep = (_ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
    if (!signal || signal.aborted) { resolve(); return; }
    signal.addEventListener('abort', () => { resolve(); }, { once: true });
  });
}

interface Helper { pod: Obj; ns: FakeNetns; done: Promise<number>; settled: boolean; code?: number; resultFile: string; signals: ReturnType<typeof fakeDeps>['signals'] }

/**
 * The fake kubelet. `behave(pod)` picks what a helper does: 'run' (the real `netchaos helper` in-process,
 * reported once it has ended), 'hang' (the same with a frozen clock: runs until deleted), 'pending' (never
 * starts), or a scripted end (exit code and termination message).
 */
class Kubelet {
  readonly helpers = new Map<string, Helper>();
  readonly events: string[] = [];
  private readonly waiters: { prefix: string; resolve: () => void }[] = [];
  behave: (pod: Obj) => 'run' | 'hang' | 'pending' | { exitCode: number; message?: string; reason?: string } = () => 'run';
  /** What the helpers' fake files hold (e.g. a target's /proc/<pid>/net tables). */
  readText: ((path: string) => string | undefined) | undefined;
  /** Called on each get of a pod before it is answered; the answer waits for a promise it returns. */
  onGet: ((pod: Obj) => void | Promise<void>) | undefined;
  /** Called with each helper's fake namespace when it starts (e.g. to change the cluster after its first apply). */
  onStart: ((ns: FakeNetns) => void) | undefined;

  readonly hook = async (e: { verb: 'create' | 'get' | 'delete'; pod: Obj; gracePeriodSeconds: number | undefined }): Promise<void> => {
    const name: string = e.pod.metadata.name;
    const event = `${e.verb} ${name}${e.verb === 'delete' ? ` grace=${String(e.gracePeriodSeconds)}` : ''}`;
    this.events.push(event);
    for (const w of this.waiters) if (event.startsWith(w.prefix)) w.resolve();
    const b = this.behave(e.pod);
    if (e.verb === 'create') {
      if (b === 'pending') {
        e.pod.status = { phase: 'Pending', containerStatuses: [{ name: 'netchaos-helper', ready: false, restartCount: 0, image: '', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example/netchaos:1"' } } }] };
      } else if (b === 'run' || b === 'hang') {
        this.start(e.pod, b === 'hang');
        e.pod.status = { phase: 'Running', containerStatuses: [{ name: 'netchaos-helper', ready: true, restartCount: 0, image: '', imageID: '', state: { running: { startedAt: '2025-01-01T00:00:00Z' } } }] };
      } else {
        e.pod.status = { phase: 'Running' };
      }
      return;
    }
    if (e.verb === 'get') {
      const wait = this.onGet?.(e.pod);
      if (wait) await wait;
      const h = this.helpers.get(name);
      if (h && b === 'run') await h.done;
      if (h?.settled) this.ended(e.pod, h.code ?? 1, readFileSync(h.resultFile, 'utf8'));
      else if (typeof b === 'object') this.ended(e.pod, b.exitCode, b.message, b.reason);
      return;
    }
    // delete: the kubelet sends SIGTERM; the helper reverts, writes its result and exits; the pod goes away after.
    const h = this.helpers.get(name);
    if (h && !h.settled) {
      h.signals.send('SIGTERM');
      await h.done;
      this.ended(e.pod, h.code ?? 1, readFileSync(h.resultFile, 'utf8'));
      return;
    }
    api.remove('pods', e.pod.metadata.namespace, name);
  };

  /** Resolves once the kubelet has seen an event that starts with `prefix` (`delete runner-1-helper-1 grace=0`: the runner read that helper's end). */
  seen(prefix: string): Promise<void> {
    if (this.events.some((e) => e.startsWith(prefix))) return Promise.resolve();
    return new Promise((resolve) => { this.waiters.push({ prefix, resolve }); });
  }

  private ended(p: Obj, exitCode: number, message: string | undefined, reason?: string): void {
    p.status = {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{ name: 'netchaos-helper', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode, reason: reason ?? (exitCode === 0 ? 'Completed' : 'Error'), ...(message !== undefined ? { message } : {}) } } }],
    };
  }

  private start(p: Obj, frozen: boolean): void {
    const c = p.spec.containers[0];
    const env: Record<string, string> = {};
    for (const e of c.env) env[e.name] = e.value ?? (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName' ? p.spec.nodeName : '');
    const ns = new FakeNetns();
    this.onStart?.(ns);
    // The API only with the service account's token mounted (DEPENDENCY_REFRESH of pods/Services, as the runner's
    // account); else fakeDeps' default refuses every call: such a helper must not call the API.
    const kube = p.spec.automountServiceAccountToken === true ? { kube: createKubeApi({ KUBECONFIG: kubeconfig }) } : {};
    const f = fakeDeps(ns, { searchPath: runtime.bin, ...kube, ...(frozen ? { clock: new FrozenClock() } : {}), ...(this.readText ? { readText: this.readText } : {}) });
    Object.assign(f.host, { exec: crictlOnly(runtime.bin) });
    const resultFile = join(dir, `${String(p.metadata.name)}.result`);
    const h: Helper = { pod: p, ns, resultFile, signals: f.signals, settled: false, done: Promise.resolve(0) };
    h.done = run(['helper', '--result-file', resultFile], { stdout: () => {}, stderr: () => {}, env }, () => f.host)
      .then((code) => { h.settled = true; h.code = code; return code; });
    this.helpers.set(String(p.metadata.name), h);
  }
}

let kubelet: Kubelet;

before(async () => {
  // The CLI loads each command's code when it first runs (src/cli/main.ts); loaded here once, so that the
  // three helpers started at once do not all wait for that first load while the runner already stops them.
  await Promise.all([import('../../src/cli/helper.ts'), import('../../src/cli/run.ts'), import('../../src/cli/host.ts'), import('../../src/cli/options.ts'), import('../../src/cli/target-flags.ts')]);
  await api.start();
  kubeconfig = api.kubeconfig();
  runtime = await fakeRuntime(dir);
  api.add('chaosengines', { metadata: { name: 'shop-chaos', namespace: 'litmus', uid: 'engine-uid' }, spec: { engineState: 'active', experiments: [{ name: 'pod-dependency-latency', spec: {} }] } });
  const rs = { kind: 'ReplicaSet', name: 'frontend-5d8f' };
  api.add('pods', pod({ name: 'frontend-1', namespace: 'shop', node: 'node-a', labels: { app: 'frontend' }, owner: rs, containerId: id('a') }));
  api.add('pods', pod({ name: 'frontend-2', namespace: 'shop', node: 'node-b', labels: { app: 'frontend' }, owner: rs, containerId: id('b') }));
  api.add('pods', pod({ name: 'frontend-3', namespace: 'shop', node: 'node-c', labels: { app: 'frontend' }, owner: rs, containerId: id('c') }));
  api.add('pods', pod({ name: 'solo-1', namespace: 'shop', node: 'node-a', labels: { app: 'solo' }, owner: rs, containerId: id('d') }));
  api.add('services', { metadata: { name: 'api', namespace: 'shop' }, spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80 }] } });
  api.add('endpointslices', { metadata: { name: 'api-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'api' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }] });
  // The runner's own pod, as the chaos-runner creates it from the ChaosExperiment.
  const runner = pod({ name: 'runner-1', namespace: 'litmus', node: 'node-a', containers: ['pod-dependency-latency'] });
  runner.spec.containers[0].image = 'registry.example/netchaos:1';
  runner.spec.containers[0].imagePullPolicy = 'IfNotPresent';
  runner.spec.containers[0].volumeMounts = [{ name: 'runtime-socket', mountPath: '/run/containerd/containerd.sock' }, { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }];
  runner.spec.volumes = [{ name: 'runtime-socket', hostPath: { path: '/run/containerd/containerd.sock', type: '' } }, { name: 'kube-api-access', projected: { sources: [] } }];
  runner.spec.serviceAccountName = 'pod-dependency-latency-sa';
  runner.spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'chaos', effect: 'NoSchedule' }];
  runner.spec.imagePullSecrets = [{ name: 'registry-cred' }];
  api.add('pods', runner);
});
after(async () => {
  for (const c of api.calls) {
    assert.ok(apiPermissions.some((p) => p.apiGroup === c.group && p.resource === c.resource && (p.verbs as readonly string[]).includes(c.verb)),
      `${c.verb} ${c.resource}.${c.group} is not in apiPermissions`);
  }
  // Event names repeat across runs here (a fixed fake clock and random): the Reporter takes another name on a
  // 409 AlreadyExists, as it would on a real clash. Anything else refused is a finding.
  assert.deepEqual(api.refusals((c) => c.resource === 'events' && c.reason === 'AlreadyExists'), [], 'every request is one a real apiserver accepts');
  assert.deepEqual(api.warnings, [], 'no field we send is dropped by the apiserver');
  runtime.close();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  // A fresh cluster state: helper pods a previous test left (deleted, but still terminating) are gone.
  for (const p of helperPods()) api.remove('pods', 'litmus', p.metadata.name);
  kubelet = new Kubelet();
  api.kubelet = kubelet.hook;
});

const baseEnv = (): Record<string, string> => ({
  KUBECONFIG: kubeconfig, PATH: runtime.bin, TARGETS: 'deployment:shop:[app=frontend]', PODS_AFFECTED_PERC: '100', NODE_NAME: 'node-a',
  CHAOSENGINE: 'shop-chaos', EXPERIMENT_NAME: 'pod-dependency-latency', CHAOS_NAMESPACE: 'litmus', CHAOS_UID: 'engine-uid', POD_NAME: 'runner-1',
  CONTAINER_RUNTIME: 'auto', SOCKET_PATH: runtime.socket, NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '3',
  DESTINATION_SERVICES: 'shop/api', DESTINATION_IPS: '192.0.2.10',
});

const helperPods = (): Obj[] => api.list('pods', 'litmus').filter((p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'experiment-job-helper');

async function litmusRun(env: Record<string, string>, setup: (f: ReturnType<typeof fakeDeps>) => void = () => {}) {
  const ns = new FakeNetns();
  const f = fakeDeps(ns, { searchPath: runtime.bin, kube: createKubeApi({ KUBECONFIG: kubeconfig }) });
  Object.assign(f.host, { exec: crictlOnly(runtime.bin) });
  setup(f);
  let stderr = '';
  const calls = api.calls.length;
  const code = await run(['run'], { stdout: () => {}, stderr: (t) => { stderr += t; }, env }, () => f.host);
  const result = api.get('chaosresults', 'litmus', 'shop-chaos-pod-dependency-latency');
  // Creates and deletes of pods, in order, as the kubelet saw them.
  const podCalls = kubelet.events.filter((e) => /^(create|delete) /.test(e)).map((e) => e.replace(/ grace=.*/, ''));
  assert.deepEqual(api.calls.slice(calls).filter((c) => c.resource === 'pods' && c.verb === 'create').map((c) => c.namespace), created(podCalls).map(() => 'litmus'));
  return { code, stderr, ns, lines: f.lines, result, podCalls };
}

const created = (podCalls: string[]): string[] => podCalls.filter((c) => c.startsWith('create ')).map((c) => c.slice(7));
const jobOf = (p: Obj): HelperJob => decodeJob(p.spec.containers[0].env.find((e: Obj) => e.name === JOB_ENV).value);

/** A test that holds the double's answers on a condition: bounded (see HOLD below). */
const HOLD_TIMEOUT_MS = 30_000;

describe('netchaos run with targets on several nodes (helper pods)', () => {
  test('one helper per node, exactly this spec; each injects and reverts its target; results in the ChaosResult; all deleted', async () => {
    // What the kubelet got: the pods as the apiserver stored them (after its defaulting).
    const stored: Obj[] = [];
    kubelet.behave = (p) => { if (!stored.some((s) => s.metadata.name === p.metadata.name)) stored.push(structuredClone({ metadata: p.metadata, spec: p.spec })); return 'run'; };
    const first = api.calls.length;
    const r = await litmusRun(baseEnv());
    // What netchaos sent.
    const specs = api.calls.slice(first).filter((c) => c.verb === 'create' && c.resource === 'pods').map((c) => c.body as Obj);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.result?.status.experimentStatus.phase, r.result?.status.experimentStatus.verdict], ['Completed', 'Pass']);
    assert.deepEqual(r.result?.status.history.targets.map((t: Obj) => `${t.name}:${t.chaosStatus}`).sort(), ['frontend-1:reverted', 'frontend-2:reverted', 'frontend-3:reverted']);
    assert.deepEqual(r.ns.calls, [], 'the runner itself changes nothing (not even crictl)');
    assert.deepEqual(created(r.podCalls), ['runner-1-helper-1', 'runner-1-helper-2', 'runner-1-helper-3']);
    assert.deepEqual(r.podCalls.slice(0, 3).map((c) => c.split(' ')[0]), ['create', 'create', 'create'], 'parallel: all nodes at once');
    assert.deepEqual(r.podCalls.filter((c) => c.startsWith('delete ')).map((c) => c.slice(7)).sort(), created(r.podCalls));
    assert.deepEqual(helperPods(), []);
    for (const h of kubelet.helpers.values()) {
      assert.equal(h.code, 0);
      assert.deepEqual(h.ns.tcOps.filter((o) => o === 'apply' || o === 'revert'), ['apply', 'revert']);
      const batch = h.ns.calls.find((c) => c.op === 'apply')!;
      for (const addr of ['192.0.2.10', '10.96.0.20', '10.244.1.5']) assert.match(batch.lines!.join('\n'), new RegExp(addr.replaceAll('.', '\\.')), `${addr} in the helper's batch`);
      assert.equal(decodeResult(readFileSync(h.resultFile, 'utf8')) instanceof Object, true);
    }
    const b = specs.find((s) => s.spec.nodeName === 'node-b')!;
    const job = jobOf(b);
    assert.equal(job.node, 'node-b');
    assert.deepEqual(job.targets, [{ namespace: 'shop', name: 'frontend-2', node: 'node-b', uid: job.targets[0]!.uid, container: 'app', containerId: id('b') }]);
    assert.equal(job.variables['NETWORK_LATENCY'], '100');
    assert.equal(job.variables['TARGETS'], undefined, 'only the fault variables travel');
    assert.deepEqual(job.dependencies.map((d) => d.items), [['10.96.0.20/32|80', '10.244.1.5/32|8080']]);
    const runnerUid = api.get('pods', 'litmus', 'runner-1')!.metadata.uid;
    assert.deepEqual(b.metadata.labels, {
      'app.kubernetes.io/name': 'netchaos', 'app.kubernetes.io/component': 'experiment-job-helper', 'app.kubernetes.io/part-of': 'litmus',
      'netchaos.io/runner-uid': runnerUid, chaosUID: 'engine-uid',
    });
    assert.deepEqual(b.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: 'runner-1', uid: runnerUid }]);
    const { containers, ...podSpec } = b.spec;
    assert.deepEqual(podSpec, {
      nodeName: 'node-b', hostPID: true, restartPolicy: 'Never', activeDeadlineSeconds: 120 + 3 + 60 + 30, terminationGracePeriodSeconds: 30,
      // DEPENDENCY_REFRESH (default on) with DESTINATION_SERVICES: the helper lists the EndpointSlices again, with the runner's account.
      serviceAccountName: 'pod-dependency-latency-sa', automountServiceAccountToken: true, enableServiceLinks: false,
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'chaos', effect: 'NoSchedule' }],
      imagePullSecrets: [{ name: 'registry-cred' }],
      volumes: [{ name: 'runtime-socket', hostPath: { path: '/run/containerd/containerd.sock' } }],
    });
    const { env, ...container } = containers[0];
    assert.deepEqual(container, {
      name: 'netchaos-helper', image: 'registry.example/netchaos:1', imagePullPolicy: 'IfNotPresent', command: ['netchaos'], args: ['helper'],
      securityContext: { capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE', 'NET_RAW', 'SYS_CHROOT'] }, runAsUser: 0, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } },
      volumeMounts: [{ name: 'runtime-socket', mountPath: '/run/containerd/containerd.sock' }],
      terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
    });
    // The apiserver's defaults on top (pkg/apis/core/v1/defaults.go): nothing netchaos relies on is changed.
    const kept = stored.find((s) => s.spec.nodeName === 'node-b')!;
    assert.deepEqual(kept.spec, { ...b.spec, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', securityContext: {}, serviceAccount: 'pod-dependency-latency-sa',
      containers: [{ ...containers[0], env: [env[0], { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }] }],
      volumes: [{ name: 'runtime-socket', hostPath: { path: '/run/containerd/containerd.sock', type: '' } }] });
    assert.deepEqual(env.map((e: Obj) => e.name), [JOB_ENV, 'NODE_NAME']);
    assert.deepEqual(env[1].valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
    const reasons = api.list('events', 'litmus').map((e) => e.reason);
    assert.ok(reasons.filter((x) => x === 'ChaosHelper').length >= 3);
  });

  test('LIB_IMAGE, LIB_IMAGE_PULL_POLICY, TERMINATION_GRACE_PERIOD_SECONDS; the runner pod\'s labels (not the Job\'s), annotations and resources (litmus-go pkg/utils/common/pods.go SetHelperData)', async () => {
    const runner = api.get('pods', 'litmus', 'runner-1')!;
    const saved = structuredClone({ metadata: runner.metadata, spec: runner.spec });
    // As the chaos-runner's Job and a ChaosCenter workflow label the experiment pod.
    runner.metadata.labels = { 'job-name': 'pod-dependency-latency-x1y2z3', 'batch.kubernetes.io/job-name': 'pod-dependency-latency-x1y2z3', 'controller-uid': 'c-uid', 'batch.kubernetes.io/controller-uid': 'c-uid', workflow_run_id: 'run-42', 'app.kubernetes.io/component': 'experiment-job', chaosUID: 'engine-uid' };
    runner.metadata.annotations = { 'sidecar.istio.io/inject': 'false', 'example.com/team': 'sre' };
    runner.spec.containers[0].resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } };
    try {
      // A failed node: the others are stopped, so the delete grace shows too.
      const failed = encodeResult({ version: 1, node: 'node-b', outcome: 'failed', exitCode: 1, targets: [{ pod: 'shop/frontend-2', status: 'targeted' }], error: { code: 'CONTAINER_RUNTIME_ERROR', message: 'x' } });
      kubelet.behave = (p) => (p.spec.nodeName === 'node-b' ? { exitCode: 1, message: failed } : 'hang');
      const first = api.calls.length;
      const r = await litmusRun({ ...baseEnv(), LIB_IMAGE: 'mirror.example/chaos/netchaos:0.1.0', LIB_IMAGE_PULL_POLICY: 'ifnotpresent', TERMINATION_GRACE_PERIOD_SECONDS: '45' });
      assert.equal(r.code, 0, r.stderr);
      const specs = api.calls.slice(first).filter((c) => c.verb === 'create' && c.resource === 'pods').map((c) => c.body as Obj);
      assert.equal(specs.length, 3);
      for (const b of specs) {
        assert.deepEqual(b.metadata.labels, {
          workflow_run_id: 'run-42', chaosUID: 'engine-uid',
          'app.kubernetes.io/name': 'netchaos', 'app.kubernetes.io/component': 'experiment-job-helper', 'app.kubernetes.io/part-of': 'litmus',
          'netchaos.io/runner-uid': runner.metadata.uid,
        });
        assert.deepEqual(b.metadata.annotations, { 'sidecar.istio.io/inject': 'false', 'example.com/team': 'sre' });
        assert.equal(b.spec.terminationGracePeriodSeconds, 45);
        assert.equal(b.spec.activeDeadlineSeconds, 120 + 3 + 60 + 45);
        assert.deepEqual([b.spec.containers[0].image, b.spec.containers[0].imagePullPolicy], ['mirror.example/chaos/netchaos:0.1.0', 'IfNotPresent']);
        assert.deepEqual(b.spec.containers[0].resources, { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } });
      }
      for (const n of ['runner-1-helper-1', 'runner-1-helper-3']) assert.ok(kubelet.events.includes(`delete ${n} grace=45`), `${n} deleted with the engine's grace: ${kubelet.events.join(', ')}`);
      // SET_HELPER_DATA=false (litmus-go SetHelperData): labels only, no annotations or resources.
      for (const p of helperPods()) api.remove('pods', 'litmus', p.metadata.name);
      kubelet = new Kubelet();
      api.kubelet = kubelet.hook;
      const from = api.calls.length;
      const r2 = await litmusRun({ ...baseEnv(), TARGETS: 'pod:shop:[frontend-2]', SET_HELPER_DATA: 'false' });
      assert.equal(r2.code, 0, r2.stderr);
      const bare = api.calls.slice(from).find((c) => c.verb === 'create' && c.resource === 'pods')!.body as Obj;
      assert.equal(bare.metadata.labels.workflow_run_id, 'run-42');
      assert.deepEqual([bare.metadata.annotations, bare.spec.containers[0].resources], [undefined, undefined]);
      assert.deepEqual(bare.spec.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'chaos', effect: 'NoSchedule' }], 'tolerations are kept: the helper must be scheduled');
    } finally {
      Object.assign(runner, saved);
    }
  });
  test('LIB_IMAGE_PULL_POLICY, TERMINATION_GRACE_PERIOD_SECONDS, LIB_IMAGE are checked at the edge; 0 (the chaos-runner\'s "unset") is the default grace', () => {
    const spec = (env: Record<string, string>) => buildLitmusSpec({ get: (n) => (env[n] ? { value: env[n], label: n } : undefined) });
    const base = { TARGETS: 'pod:shop:[a]', NODE_NAME: 'n1' };
    assert.deepEqual(spec(base).helperPod, { image: undefined, pullPolicy: undefined, graceS: undefined, copyRunnerData: true });
    assert.deepEqual(spec({ ...base, TERMINATION_GRACE_PERIOD_SECONDS: '0', LIB_IMAGE_PULL_POLICY: 'Always', SET_HELPER_DATA: 'false' }).helperPod, { image: undefined, pullPolicy: 'Always', graceS: undefined, copyRunnerData: false });
    assert.throws(() => spec({ ...base, LIB_IMAGE_PULL_POLICY: 'sometimes', TERMINATION_GRACE_PERIOD_SECONDS: '30s', LIB_IMAGE: 'a b' }), (e: Error) => {
      assert.match(e.message, /LIB_IMAGE_PULL_POLICY: expected Always, IfNotPresent or Never, got "sometimes"/);
      assert.match(e.message, /TERMINATION_GRACE_PERIOD_SECONDS: .*whole number/);
      assert.match(e.message, /LIB_IMAGE: expected an image reference/);
      return true;
    });
  });
  test('a target behind an istio sidecar on another node: the runner resolves the DESTINATION_HOSTS Service name to its endpoints and the helper (no API access) filters those', async () => {
    const target = api.get('pods', 'shop', 'frontend-2')!;
    target.spec.containers.push({ name: 'istio-proxy', image: 'registry.example/proxyv2:1' });
    try {
      const first = api.calls.length;
      const r = await litmusRun({ ...baseEnv(), TARGETS: 'pod:shop:[frontend-2]', DESTINATION_SERVICES: '', DESTINATION_IPS: '', DESTINATION_HOSTS: 'api.shop.svc.cluster.local|80' });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([r.result?.status.experimentStatus.verdict, created(r.podCalls)], ['Pass', ['runner-1-helper-1']]);
      const spec = api.calls.slice(first).find((c) => c.verb === 'create' && c.resource === 'pods')!.body as Obj;
      const job = jobOf(spec);
      assert.equal(job.targets[0]?.mesh, 'istio (container istio-proxy)');
      assert.deepEqual(job.dependencies.map((d) => [d.source, d.items]), [['host api.shop.svc.cluster.local', ['10.96.0.20/32|80', '10.244.1.5/32|8080']]]);
      const h = kubelet.helpers.get('runner-1-helper-1')!;
      assert.equal(h.code, 0);
      const batch = h.ns.calls.find((c) => c.op === 'apply')!.lines!.join('\n');
      assert.match(batch, /10\.244\.1\.5/, 'the endpoint pod IP the sidecar connects to is filtered');
    } finally {
      target.spec.containers.pop();
    }
  });
  test('the blast radius of targets in helper pods: each helper reads its own, the runner puts it in the ChaosResult (with the node) and an Event per node', async () => {
    kubelet.readText = (p) => connTables[p];
    const before = api.list('events', 'litmus').length;
    const r = await litmusRun({ ...baseEnv(), DESTINATION_IPS: '192.0.2.11|8080' });
    assert.equal(r.code, 0, r.stderr);
    const radius = r.result?.status.netchaosBlastRadius as Record<string, BlastStatus>;
    assert.deepEqual(Object.keys(radius).sort(), ['frontend-1', 'frontend-2', 'frontend-3']);
    assert.deepEqual(['frontend-1', 'frontend-2', 'frontend-3'].map((p) => radius[p]?.node), ['node-a', 'node-b', 'node-c']);
    const b = radius['frontend-2'];
    assert.deepEqual(b?.totals, { connections: 14, faulted: 2, untouched: 12 });
    assert.equal(b?.connections?.[0], 'tcp 192.0.2.11:8080 ×2: FAULTED band 4 +100ms (DESTINATION_IPS)');
    assert.equal(b?.source, '/proc/23917/net/{tcp,tcp6,udp,udp6}');
    assert.match(b?.warnings.join('\n') ?? '', /service shop\/api: no live connection/);
    const events = api.list('events', 'litmus').slice(before).filter((e) => e.reason === 'BlastRadius');
    assert.deepEqual(events.map((e) => String(e.message).match(/^read on node (node-.) before the chaos: (shop\/frontend-.): 2 of 14 live connections will be faulted \(192\.0\.2\.11:8080\)/)?.slice(1, 3).join(' ')).sort(),
      ['node-a shop/frontend-1', 'node-b shop/frontend-2', 'node-c shop/frontend-3']);
    assert.ok(events.every((e) => e.type === 'Warning' && e.involvedObject.kind === 'ChaosEngine'), 'a named dependency without a connection: Warning');
    // The next run without it: this run's entries are not left behind as if they were the next one's.
    kubelet = new Kubelet();
    api.kubelet = kubelet.hook;
    const off = await litmusRun({ ...baseEnv(), BLAST_RADIUS: 'false' });
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.result?.status.netchaosBlastRadius, undefined);
  });

  test('SEQUENCE=serial: one node after the other (each helper is deleted before the next is created)', async () => {
    const r = await litmusRun({ ...baseEnv(), SEQUENCE: 'serial' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.podCalls, ['create runner-1-helper-1', 'delete runner-1-helper-1', 'create runner-1-helper-2', 'delete runner-1-helper-2', 'create runner-1-helper-3', 'delete runner-1-helper-3']);
    for (const h of kubelet.helpers.values()) assert.equal(jobOf(h.pod).sequence, 'serial');
  });

  test('all targets on this node (auto): in place, no helper pod', async () => {
    const r = await litmusRun({ ...baseEnv(), TARGETS: 'deployment:shop:[app=solo]' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.podCalls, []);
    assert.deepEqual(r.ns.tcOps.filter((o) => o !== 'show'), ['apply', 'revert']);
  });

  test('HELPER_MODE=always: a helper even for this node', async () => {
    const r = await litmusRun({ ...baseEnv(), TARGETS: 'deployment:shop:[app=solo]', HELPER_MODE: 'always' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.podCalls, ['create runner-1-helper-1', 'delete runner-1-helper-1']);
    assert.deepEqual(r.ns.calls, []);
  });

  test('DEPENDENCY_REFRESH in a helper pod: the EndpointSlice moves mid-run, the helper applies the diff, the runner puts its report into status.netchaosRefresh and an Event; no token without live Kubernetes dependencies', async () => {
    const slice = api.get('endpointslices', 'shop', 'api-1')!;
    kubelet.onStart = (ns) => {
      ns.afterCall = (c) => { if (c.op === 'apply' && ns.calls.filter((x) => x.op === 'apply').length === 1) slice.endpoints = [{ addresses: ['10.244.1.6'], conditions: { ready: true } }]; };
    };
    const before = api.list('events', 'litmus').length;
    try {
      // A clock of its own: Event names are made from the time, and the other tests' fixed clock would make them clash.
      const r = await litmusRun({ ...baseEnv(), TARGETS: 'deployment:shop:[app=solo]', HELPER_MODE: 'always', DEPENDENCY_REFRESH_INTERVAL: '1', TOTAL_CHAOS_DURATION: '3' }, (f) => { f.clock.t = 7_000_000_000; });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([r.result?.status.experimentStatus.phase, r.result?.status.experimentStatus.verdict], ['Completed', 'Pass'], r.stderr);
      const [h] = [...kubelet.helpers.values()];
      assert.equal(h?.pod.spec.automountServiceAccountToken, true, 'the helper lists the EndpointSlices itself');
      assert.deepEqual(h?.ns.tcOps.filter((o) => o === 'apply' || o === 'revert'), ['apply', 'apply', 'revert'], 'the first batch, the diff, the revert');
      const diff = h?.ns.batches[1]?.join('\n') ?? '';
      assert.match(diff, /filter del .*handle/, 'the old endpoint deleted by handle');
      assert.match(diff, /match ip dst 10\.244\.1\.6\/32 match ip dport 8080 0xffff/, 'the new endpoint added');
      const refresh = r.result?.status.netchaosRefresh;
      assert.deepEqual([refresh?.intervalS, refresh?.changes, refresh?.stale, refresh?.failed, refresh?.dropped], [1, 1, 0, 0, 0]);
      assert.deepEqual(refresh?.history.map((e: Obj) => ({ target: e.target, node: e.node, source: e.source, kind: e.kind, added: e.added, removed: e.removed })),
        [{ target: 'shop/solo-1', node: 'node-a', source: 'service shop/api', kind: 'changed', added: ['10.244.1.6|8080'], removed: ['10.244.1.5|8080'] }]);
      const events = api.list('events', 'litmus').slice(before);
      const ev = events.find((e) => e.reason === 'DependencyRefresh');
      assert.equal(ev?.type, 'Normal');
      assert.equal(ev?.involvedObject.kind, 'ChaosEngine');
      assert.match(ev?.message, /node node-a: the helper's dependency refresh applied 1 move\(s\) \(shop\/solo-1 service shop\/api: \+10\.244\.1\.6\|8080 -10\.244\.1\.5\|8080\)/);
      assert.match(events.find((e) => e.reason === 'Summary')?.message, /DEPENDENCY_REFRESH: 1 move\(s\) applied, 0 failed lookup\(s\)/);
    } finally {
      slice.endpoints = [{ addresses: ['10.244.1.5'], conditions: { ready: true } }];
    }
  });

  test('no live Kubernetes dependency (DEPENDENCY_REFRESH=false): the helper gets no token; the last run\'s refresh history is cleared', async () => {
    const off = await litmusRun({ ...baseEnv(), TARGETS: 'deployment:shop:[app=solo]', HELPER_MODE: 'always', DEPENDENCY_REFRESH: 'false' });
    assert.equal(off.code, 0, off.stderr);
    assert.equal([...kubelet.helpers.values()][0]?.pod.spec.automountServiceAccountToken, false);
    assert.equal(off.result?.status.netchaosRefresh, undefined, 'a ChaosResult is reused by the next run: status.netchaosRefresh is this run\'s only');
  });

  // HOLD: these two hold the fake kubelet's answers until the runner has done something; if it never does, the test
  // fails at its timeout (30 s; it takes 0.3-0.7 s on a loaded 2-core machine) instead of hanging the suite.
  test('a helper that never starts: its node is reported after HELPER_START_TIMEOUT, it is deleted, the others reverted', { timeout: HOLD_TIMEOUT_MS }, async () => {
    kubelet.behave = (p) => (p.spec.nodeName === 'node-c' ? 'pending' : 'run');
    // HELPER_START_TIMEOUT runs on the runner's fake clock, which only node-c's own polls move here (5 s: 3 polls, a few
    // ms), while the other helpers run for real: node-c's reads are answered once the runner has read the others' ends
    // (deleted with grace 0). Else, on a loaded machine, they were stopped first, some before their apply (left targeted).
    kubelet.onGet = (p) => (p.spec.nodeName === 'node-c' ? Promise.all(['runner-1-helper-1', 'runner-1-helper-2'].map((n) => kubelet.seen(`delete ${n} grace=0`))).then(() => {}) : undefined);
    const r = await litmusRun({ ...baseEnv(), HELPER_START_TIMEOUT: '5' });
    assert.equal(r.code, 0, r.stderr);
    const out = r.result?.status.experimentStatus;
    assert.deepEqual([out.phase, out.verdict, out.errorOutput.errorCode], ['Error', 'Error', 'CHAOS_INJECT_ERROR']);
    assert.match(out.errorOutput.reason, /helper pod\(s\) failed on 1 of 3 node\(s\): node node-c: helper pod runner-1-helper-3 did not start within 5 s \(HELPER_START_TIMEOUT\): ImagePullBackOff: Back-off pulling image/);
    assert.deepEqual(r.result?.status.history.targets.map((t: Obj) => `${t.name}:${t.chaosStatus}`).sort(), ['frontend-1:reverted', 'frontend-2:reverted', 'frontend-3:targeted']);
    assert.ok(kubelet.events.includes('delete runner-1-helper-3 grace=30'));
    assert.deepEqual(r.podCalls.filter((c) => c.startsWith('delete ')).map((c) => c.slice(7)).sort(), created(r.podCalls));
  });

  test('a helper that has ended when the run stops (another node failed): its result is read before it is deleted (an ended pod goes at once, with its termination message); its targets reverted', { timeout: HOLD_TIMEOUT_MS }, async () => {
    kubelet.behave = (p) => (p.spec.nodeName === 'node-c' ? 'pending' : 'run');
    const ended = (n: string): Promise<number> => kubelet.seen(`create ${n}`).then(() => kubelet.helpers.get(n)!.done);
    const reads = new Map<string, number>();
    kubelet.onGet = (p) => {
      const name: string = p.metadata.name;
      if (!name.startsWith('runner-1-helper-')) return undefined;
      reads.set(name, (reads.get(name) ?? 0) + 1);
      // node-c's start timeout comes once the other helpers have ended; their ends are not seen by the runner's
      // polls before it (the first read of each is answered only once that pod is deleted): the stop finds them ended.
      if (p.spec.nodeName === 'node-c') return Promise.all([ended('runner-1-helper-1'), ended('runner-1-helper-2')]).then(() => {});
      return reads.get(name) === 1 ? kubelet.seen(`delete ${name} `) : undefined;
    };
    const before = api.list('events', 'litmus').length;
    const r = await litmusRun({ ...baseEnv(), HELPER_START_TIMEOUT: '5' });
    assert.equal(r.code, 0, r.stderr);
    const out = r.result?.status.experimentStatus;
    assert.deepEqual([out.phase, out.verdict, out.errorOutput.errorCode], ['Error', 'Error', 'CHAOS_INJECT_ERROR']);
    assert.match(out.errorOutput.reason, /^helper pod\(s\) failed on 1 of 3 node\(s\): node node-c: helper pod runner-1-helper-3 did not start within 5 s \(HELPER_START_TIMEOUT\): [^;]*; deleted with a 30 s grace period before it started \(targets: 1 targeted\)$/, 'node-a and node-b completed: not "stopped as a consequence"');
    assert.deepEqual(r.result?.status.history.targets.map((t: Obj) => `${t.name}:${t.chaosStatus}`).sort(), ['frontend-1:reverted', 'frontend-2:reverted', 'frontend-3:targeted']);
    const helperEvents = api.list('events', 'litmus').slice(before).filter((e) => e.reason === 'ChaosHelper').map((e) => String(e.message));
    for (const n of ['a', 'b']) assert.ok(helperEvents.some((m) => m.startsWith(`node node-${n}: helper runner-1-helper-${n === 'a' ? 1 : 2} completed (1 reverted)`)), helperEvents.join('\n'));
    assert.deepEqual(r.podCalls.filter((c) => c.startsWith('delete ')).map((c) => c.slice(7)).sort(), created(r.podCalls));
  });

  test('a helper that fails: reported by node with its own error code; the other nodes are stopped (they revert); all deleted', async () => {
    const failed = encodeResult({ version: 1, node: 'node-b', outcome: 'failed', exitCode: 1, targets: [{ pod: 'shop/frontend-2', status: 'targeted' }], error: { code: 'CONTAINER_RUNTIME_ERROR', message: 'cannot find container bbbb' } });
    // node-b's failure is seen once the other helpers have applied their trees (so that they have something to revert).
    const othersApplied = (): boolean => ['runner-1-helper-1', 'runner-1-helper-3'].every((n) => kubelet.helpers.get(n)?.ns.tcOps.includes('apply'));
    kubelet.behave = (p) => (p.spec.nodeName !== 'node-b' ? 'hang' : p.status?.phase === 'Running' && !othersApplied() ? 'pending' : { exitCode: 1, message: failed });
    const r = await litmusRun(baseEnv());
    assert.equal(r.code, 0, r.stderr);
    const out = r.result?.status.experimentStatus;
    assert.equal(out.errorOutput.errorCode, 'CONTAINER_RUNTIME_ERROR');
    assert.match(out.errorOutput.reason, /node node-b: helper pod runner-1-helper-2 failed \(exit 1\): CONTAINER_RUNTIME_ERROR: cannot find container bbbb/);
    for (const n of ['runner-1-helper-1', 'runner-1-helper-3']) {
      assert.ok(kubelet.events.includes(`delete ${n} grace=30`), `${n} stopped with a grace period`);
      const h = kubelet.helpers.get(n)!;
      assert.equal(h.code, 143);
      assert.deepEqual(h.ns.tcOps.filter((o) => o === 'apply' || o === 'revert'), ['apply', 'revert']);
    }
    assert.deepEqual(r.podCalls.filter((c) => c.startsWith('delete ')).map((c) => c.slice(7)).sort(), created(r.podCalls));
  });

  test('a helper whose revert failed: CHAOS_REVERT_ERROR recorded (exit 0), what is left and how to remove it', async () => {
    const failed = encodeResult({ version: 1, node: 'node-b', outcome: 'failed', exitCode: 3, targets: [{ pod: 'shop/frontend-2', status: 'injected' }],
      error: { code: 'CHAOS_REVERT_ERROR', message: 'revert failed after 3 attempts: busy; left behind: root qdisc prio 4e43: on eth0 in pid 23917; remove it with: netchaos revert --pid 23917 --interface eth0' } });
    kubelet.behave = (p) => (p.spec.nodeName === 'node-b' ? { exitCode: 3, message: failed } : 'run');
    const r = await litmusRun(baseEnv());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.result?.status.experimentStatus.errorOutput.errorCode, 'CHAOS_REVERT_ERROR');
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /node node-b: .*left behind: root qdisc prio 4e43: on eth0 in pid 23917; remove it with: netchaos revert --pid 23917/);
    // frontend-2 is left faulted (its helper says so); the other nodes' helpers are stopped when node-b fails:
    // reverted if they had applied by then, still only targeted if not (a race the runner does not control), never left injected.
    const statuses = new Map(r.result?.status.history.targets.map((t: Obj) => [t.name, t.chaosStatus]));
    assert.equal(statuses.get('frontend-2'), 'injected');
    for (const other of ['frontend-1', 'frontend-3']) assert.match(String(statuses.get(other)), /^(reverted|targeted)$/, other);
    assert.deepEqual(r.podCalls.filter((c) => c.startsWith('delete ')).map((c) => c.slice(7)).sort(), created(r.podCalls));
  });

  test('a helper killed without a result (OOMKilled): reported with the kubelet\'s reason', async () => {
    kubelet.behave = (p) => (p.spec.nodeName === 'node-a' ? { exitCode: 137, reason: 'OOMKilled' } : 'run');
    const r = await litmusRun({ ...baseEnv(), SEQUENCE: 'serial' });
    assert.equal(r.code, 0);
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /node node-a: helper pod runner-1-helper-1 failed \(exit 137\): OOMKilled, no termination message/);
    assert.deepEqual(r.podCalls, ['create runner-1-helper-1', 'delete runner-1-helper-1'], 'serial: the next nodes are not started');
  });

  test('SIGTERM (the engine is stopped): helpers deleted with a short grace, they revert, Stopped, exit 0 (recorded)', async () => {
    kubelet.behave = () => 'hang';
    let sent = false;
    let f: ReturnType<typeof fakeDeps> | undefined;
    // The stop comes once every helper has applied its tree (on a loaded machine that is not after a fixed number of polls).
    kubelet.onGet = () => {
      const all = [...kubelet.helpers.values()];
      if (!sent && all.length === 3 && all.every((h) => h.ns.tcOps.includes('apply'))) { sent = true; f?.signals.send('SIGTERM'); }
    };
    const r = await litmusRun(baseEnv(), (x) => { f = x; });
    assert.equal(r.code, 0, r.stderr);
    const out = r.result?.status.experimentStatus;
    assert.deepEqual([out.phase, out.verdict, out.errorOutput.errorCode], ['Stopped', 'Stopped', 'EXPERIMENT_ABORTED']);
    assert.match(out.errorOutput.reason, /helper pods were deleted with a 30 s grace period so they revert first: node node-a: stopped by SIGTERM; stopped \(exit 143\)/);
    for (const h of kubelet.helpers.values()) {
      assert.equal(h.code, 143);
      assert.deepEqual(h.ns.tcOps.filter((o) => o === 'apply' || o === 'revert'), ['apply', 'revert']);
    }
    assert.deepEqual(kubelet.events.filter((e) => e.startsWith('delete')).sort(), ['delete runner-1-helper-1 grace=30', 'delete runner-1-helper-2 grace=30', 'delete runner-1-helper-3 grace=30']);
    assert.deepEqual(r.result?.status.history.targets.map((t: Obj) => `${t.name}:${t.chaosStatus}`).sort(), ['frontend-1:reverted', 'frontend-2:reverted', 'frontend-3:reverted']);
  });

  test('no POD_NAME: Error before any pod is created', async () => {
    const r = await litmusRun({ ...baseEnv(), POD_NAME: '' });
    assert.equal(r.code, 0);
    assert.deepEqual(r.podCalls, []);
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /helper pods need POD_NAME/);
  });

  test('a job too large for an environment variable: Error before any pod is created', async () => {
    const file = join(dir, 'many.txt');
    writeFileSync(file, Array.from({ length: 8000 }, (_v, i) => `10.0.${i >> 8}.${i & 255}|8080`).join('\n'));
    const r = await litmusRun({ ...baseEnv(), DESTINATION_IPS_FILE: file });
    assert.equal(r.code, 0);
    assert.deepEqual(r.podCalls, []);
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /the helper job for node node-a is \d+ bytes, more than an environment variable holds/);
  });
});

describe('netchaos helper', () => {
  const job = (over: Partial<HelperJob> = {}): string => JSON.stringify({
    version: 1, node: 'node-b', sequence: 'parallel', variables: { NETWORK_LATENCY: '100', DESTINATION_IPS: '192.0.2.10', TOTAL_CHAOS_DURATION: '3', SOCKET_PATH: runtime.socket },
    files: {}, dependencies: [], targets: [{ namespace: 'shop', name: 'frontend-2', node: 'node-b', uid: 'u', container: 'app', containerId: id('b') }], ...over,
  });
  async function helper(env: Record<string, string>, readText?: (path: string, ns: FakeNetns) => string | undefined) {
    const ns = new FakeNetns();
    const f = fakeDeps(ns, { searchPath: runtime.bin, ...(readText ? { readText: (p: string) => readText(p, ns) } : {}) });
    Object.assign(f.host, { exec: crictlOnly(runtime.bin) });
    const resultFile = join(dir, `helper-${Math.random().toString(16).slice(2)}.json`);
    const code = await run(['helper', '--result-file', resultFile], { stdout: () => {}, stderr: () => {}, env }, () => f.host);
    return { code, ns, result: decodeResult(readFileSync(resultFile, 'utf8')) };
  }
  test('injects, reverts, writes its result', async () => {
    const r = await helper({ [JOB_ENV]: job(), NODE_NAME: 'node-b' });
    assert.equal(r.code, 0);
    assert.deepEqual(r.ns.tcOps.filter((o) => o === 'apply' || o === 'revert'), ['apply', 'revert']);
    assert.ok(typeof r.result === 'object');
    const { blast, ...rest } = r.result;
    assert.deepEqual(rest, { version: 1, node: 'node-b', targets: [{ pod: 'shop/frontend-2', status: 'reverted' }], outcome: 'completed', exitCode: 0 });
    // No /proc/23917/net here: the blast radius says why, and the run goes on.
    assert.match(blast?.['shop/frontend-2']?.error ?? '', /^cannot read \/proc\/23917\/net\/tcp/);
  });
  test('reads its targets\' blast radius before its first change and sends it back, summarised (top rows, faulted first)', async () => {
    const variables = { NETWORK_LATENCY: '100', DESTINATION_IPS: '192.0.2.11|8080,192.0.2.99', TOTAL_CHAOS_DURATION: '3', SOCKET_PATH: runtime.socket };
    const reads: string[] = [];
    const r = await helper({ [JOB_ENV]: job({ variables }), NODE_NAME: 'node-b' }, (p, ns) => {
      if (p.startsWith('/proc/23917/net/')) reads.push(`${p.slice(16)} after [${ns.tcOps.filter((o) => o === 'apply').join()}]`);
      return connTables[p];
    });
    assert.equal(r.code, 0);
    assert.ok(typeof r.result === 'object');
    const st = r.result.blast?.['shop/frontend-2'];
    assert.deepEqual(st?.totals, { connections: 14, faulted: 2, untouched: 12 });
    assert.equal(st?.connections?.[0], 'tcp 192.0.2.11:8080 ×2: FAULTED band 4 +100ms (DESTINATION_IPS)');
    assert.ok((st?.connections?.length ?? 0) <= HELPER_ROWS && (st?.clients?.length ?? 0) <= HELPER_ROWS);
    assert.match(st?.warnings[0] ?? '', /^DESTINATION_IPS 192\.0\.2\.99: no live connection/);
    assert.deepEqual(reads, procNetFiles.map((f) => `${f} after []`), 'the four tables, read once, before the fault is applied');
  });
  test('a job that is not one: exit 2, nothing changed, the reason in the result', async () => {
    const r = await helper({ [JOB_ENV]: job({ variables: { TARGETS: 'x' } }), NODE_NAME: 'node-b' });
    assert.equal(r.code, 2);
    assert.deepEqual(r.ns.calls, []);
    assert.match(typeof r.result === 'object' ? r.result.error?.message ?? '' : r.result, /names variables a helper does not take: TARGETS/);
    const bad = await helper({ [JOB_ENV]: '{"version":1,"node":"x"}' });
    assert.equal(bad.code, 2);
    assert.match(typeof bad.result === 'object' ? bad.result.error?.message ?? '' : bad.result, /must have required property/);
  });
  test('on the wrong node: refused before any change', async () => {
    const r = await helper({ [JOB_ENV]: job(), NODE_NAME: 'node-z' });
    assert.equal(r.code, 1);
    assert.deepEqual(r.ns.calls, []);
    assert.match(typeof r.result === 'object' ? r.result.error?.message ?? '' : r.result, /runs on node node-z, but its job is for node node-b/);
  });
  test('HELPER_MODE and HELPER_START_TIMEOUT are parsed at the edge', () => {
    const spec = (env: Record<string, string>) => buildLitmusSpec({ get: (n) => (env[n] ? { value: env[n], label: n } : undefined) });
    const base = { TARGETS: 'pod:shop:[a]', NODE_NAME: 'n1' };
    assert.deepEqual([spec(base).helperMode, spec(base).helperStartTimeoutS], ['auto', 120]);
    assert.deepEqual([spec({ ...base, HELPER_MODE: 'Never', HELPER_START_TIMEOUT: '5m' }).helperMode, spec({ ...base, HELPER_START_TIMEOUT: '5m' }).helperStartTimeoutS], ['never', 300]);
    assert.throws(() => spec({ ...base, HELPER_MODE: 'sometimes', HELPER_START_TIMEOUT: '0' }), (e: Error) => {
      assert.match(e.message, /HELPER_MODE: expected auto, never or always, got "sometimes"/);
      assert.match(e.message, /HELPER_START_TIMEOUT: must be between 1 s and 7 days/);
      return true;
    });
    assert.throws(() => spec({ ...base, HELPER_MODE: 'always' }), /HELPER_MODE: always needs POD_NAME/);
  });
  test('an unprivileged runner (no hostPath of its own): the helper mounts the runtime socket, type Socket', () => {
    const bare = readRunnerPod(pod({ name: 'r', namespace: 'litmus', node: 'node-a', containers: ['pod-dependency-latency'] }), 'pod-dependency-latency');
    const t = (containerId: string): TargetPod => ({ namespace: 'shop', name: 'a', node: 'node-b', uid: 'u', container: 'app', containerId });
    assert.deepEqual(helperHostPaths(bare, { runtime: 'auto', socketPath: undefined }, [t(`cri-o://${'e'.repeat(64)}`)]), {
      volumes: [{ name: 'runtime-socket', hostPath: { path: '/var/run/crio/crio.sock', type: 'Socket' } }], mounts: [{ name: 'runtime-socket', mountPath: '/var/run/crio/crio.sock' }],
    });
    assert.equal(helperHostPaths(bare, { runtime: 'docker', socketPath: '/custom/docker.sock' }, [t(id('a'))]).volumes[0]?.hostPath?.path, '/custom/docker.sock');
    assert.equal(helperName('x'.repeat(80), 12).length, 63);
    assert.equal(helperName('x'.repeat(80), 12).endsWith('x-helper-12'), true);
  });
  test('what a helper pod\'s status says: pending and why, running, ended', () => {
    assert.deepEqual(observe({ status: { phase: 'Pending' } }), { state: 'pending', why: 'no status from the node\'s kubelet (is the node Ready?)' });
    assert.deepEqual(observe({ status: { phase: 'Running' } }), { state: 'running' });
    assert.deepEqual(observe({ status: { phase: 'Failed', reason: 'OutOfcpu', message: 'Node didn\'t have enough resource: cpu' } }),
      { state: 'ended', exitCode: undefined, message: undefined, why: 'Failed: OutOfcpu: Node didn\'t have enough resource: cpu' });
  });
  test('the blast radius is bounded: within BLAST_BUDGET, rows dropped last-first and counted, the verdict\'s fields untouched', () => {
    const status = (i: number): BlastStatus => ({
      source: '/proc/23917/net/{tcp,tcp6,udp,udp6}', interface: 'eth0', direction: 'egress',
      totals: { connections: 400, faulted: 50, untouched: 350 },
      connections: Array.from({ length: 50 }, (_v, k) => `tcp 10.244.${i}.${k}:8080 ×${50 - k}: ${k < 5 ? 'FAULTED band 4 +100ms (DESTINATION_IPS)' : 'untouched (no filter matches)'}`),
      clients: Array.from({ length: 50 }, (_v, k) => `tcp *:8080 ← 10.1.${i}.${k} ×1: untouched (no filter matches)`),
      omitted: 3, warnings: Array.from({ length: 6 }, (_v, k) => `DESTINATION_IPS 192.0.2.${k}: no live connection between the target and this dependency right now: ${'a typo, or a proxy; '.repeat(20)}`), notes: ['a note'],
    });
    const blast = Object.fromEntries([1, 2, 3].map((i) => [`shop/frontend-${i}`, status(i)]));
    const result: HelperResult = { version: 1, node: 'node-b', outcome: 'completed', exitCode: 0, targets: [1, 2, 3].map((i) => ({ pod: `shop/frontend-${i}`, status: 'reverted' as const })), blast };
    const text = encodeResult(result);
    assert.ok(Buffer.byteLength(text) <= 4096, `${Buffer.byteLength(text)} bytes`);
    const r = decodeResult(text);
    assert.ok(typeof r === 'object');
    assert.ok(Buffer.byteLength(JSON.stringify(r.blast)) <= BLAST_BUDGET);
    assert.deepEqual(r.targets.length, 3, 'the targets are all listed');
    for (let i = 1; i <= 3; i++) {
      const st: BlastStatus | undefined = r.blast?.[`shop/frontend-${i}`];
      assert.deepEqual(st?.totals, { connections: 400, faulted: 50, untouched: 350 });
      assert.equal((st?.connections?.length ?? 0) + (st?.clients?.length ?? 0) + (st?.omitted ?? 0), 103, 'every row left out is counted');
      assert.equal(st?.warnings.length + (st?.omittedWarnings ?? 0), 6, 'every warning is counted');
      assert.ok(st?.warnings.every((w) => w.length <= 240));
    }
    assert.equal(r.blast?.['shop/frontend-1']?.connections?.[0], blast['shop/frontend-1']?.connections?.[0], 'the top rows are kept');
    // A small one goes as it is; an error message too long still shrinks the blast radius first and keeps the code.
    const small = { ...result, blast: { 'shop/frontend-1': { totals: { connections: 1, faulted: 1, untouched: 0 }, connections: ['tcp 192.0.2.11:8080 ×1: FAULTED band 4 +100ms (DESTINATION_IPS)'], warnings: [], notes: [] } } };
    assert.deepEqual(decodeResult(encodeResult(small)), small);
    const failed = decodeResult(encodeResult({ ...result, outcome: 'failed', exitCode: 3, error: { code: 'CHAOS_REVERT_ERROR', message: 'y'.repeat(3000) } }));
    assert.ok(typeof failed === 'object');
    assert.equal(failed.error?.code, 'CHAOS_REVERT_ERROR');
  });
  test('the result fits the 4096-byte termination message: reverted targets are counted instead of listed', () => {
    const targets = Array.from({ length: 120 }, (_v, i) => ({ pod: `shop/frontend-${String(i).padStart(3, '0')}-with-a-long-name`, status: i === 7 ? 'injected' as const : 'reverted' as const }));
    const text = encodeResult({ version: 1, node: 'node-b', outcome: 'failed', exitCode: 3, targets, error: { code: 'CHAOS_REVERT_ERROR', message: 'x'.repeat(5000) } });
    assert.ok(Buffer.byteLength(text) <= 4096, `${Buffer.byteLength(text)} bytes`);
    const r = decodeResult(text);
    assert.ok(typeof r === 'object');
    assert.equal(r.targets[0]?.status, 'injected', 'what is not reverted is always listed');
    assert.equal(r.targets.length + (r.moreReverted ?? 0), 120);
  });
});
