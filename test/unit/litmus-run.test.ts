/**
 * `netchaos run` end to end without a cluster: the API double, a fake crictl on a PATH the test owns,
 * and the fake namespace that tc talks to. Checks the change (tc), the report (ChaosResult, Events) and exit codes.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.ts';
import { createKubeApi } from '../../src/kube/api.ts';
import { litmusRunner } from '../support/apiserver/rbac.ts';
import { ApiDouble, pod } from './kube-double.ts';
import { forbiddenRequest, internalError } from '../support/apiserver/status.ts';
import { Peer, httpProbe } from './probe-fixtures.ts';
import { realClock } from '../../src/host/clock.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { fakeDeps } from '../support/fake-ports.ts';
import { crictlOnly, fakeRuntime } from '../support/fake-runtime.ts';
import type { EffectProber } from '../../src/ports.ts';
import type { EffectReport } from '../../src/effect/effect.ts';

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- API objects are raw JSON here */

const ID = '5e0c7a3b9d2f41e8a6c4b1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0';
const api = new ApiDouble();
// The runner's service account with only what rbac.yaml AND the ChaosExperiment's permissions grant (the Role
// also bound in the targets' namespace, as rbac.yaml tells users to).
api.rbac = litmusRunner({ namespace: 'litmus', alsoIn: ['shop'] });
const dir = mkdtempSync(join(tmpdir(), 'netchaos-run-'));
let runtime: Awaited<ReturnType<typeof fakeRuntime>>;
let kubeconfig = '';

before(async () => {
  await api.start();
  kubeconfig = api.kubeconfig();
  runtime = await fakeRuntime(dir, { id: ID });
  api.add('chaosengines', { metadata: { name: 'shop-chaos', namespace: 'litmus', uid: 'engine-uid' }, spec: { engineState: 'active', experiments: [{ name: 'pod-dependency-latency', spec: {} }] } });
  api.add('pods', pod({ name: 'frontend-1', namespace: 'shop', node: 'node-a', labels: { app: 'frontend' }, owner: { kind: 'ReplicaSet', name: 'frontend-5d8f' }, containerId: `containerd://${ID}` }));
  api.add('pods', pod({ name: 'frontend-2', namespace: 'shop', node: 'node-b', labels: { app: 'frontend' }, owner: { kind: 'ReplicaSet', name: 'frontend-5d8f' } }));
  api.add('services', { metadata: { name: 'api', namespace: 'shop' }, spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80 }] } });
  api.add('endpointslices', { metadata: { name: 'api-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'api' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }] });
});
after(async () => {
  // Event names repeat across runs here (a fixed fake clock and random): the Reporter takes another name on a
  // 409 AlreadyExists, as it would on a real clash. Anything else refused is a finding.
  assert.deepEqual(api.refusals((c) => (c.resource === 'events' && c.reason === 'AlreadyExists') || /-final-(403|500)$/.test(c.name ?? '')), [], 'every request is one a real apiserver accepts');
  assert.deepEqual(api.warnings, [], 'no field we send is dropped by the apiserver');
  runtime.close();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

const baseEnv = (): Record<string, string> => ({
  KUBECONFIG: kubeconfig, PATH: runtime.bin, TARGETS: 'deployment:shop:[app=frontend]', PODS_AFFECTED_PERC: '100', NODE_NAME: 'node-a',
  CHAOSENGINE: 'shop-chaos', EXPERIMENT_NAME: 'pod-dependency-latency', CHAOS_NAMESPACE: 'litmus', CHAOS_UID: 'engine-uid', POD_NAME: 'runner-1',
  CONTAINER_RUNTIME: 'auto', SOCKET_PATH: runtime.socket, NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '3', DEFAULT_HEALTH_CHECK: 'true',
  DESTINATION_SERVICES: 'shop/api', DESTINATION_IPS: '192.0.2.10',
  // In place only: frontend-2 on node-b is left alone (helper pods: litmus-helpers.test.ts).
  HELPER_MODE: 'never',
});

async function litmusRun(env: Record<string, string>, setup: (f: ReturnType<typeof fakeDeps>, ns: FakeNetns) => void = () => {}) {
  const ns = new FakeNetns();
  const f = fakeDeps(ns, { searchPath: runtime.bin, kube: createKubeApi({ KUBECONFIG: kubeconfig }) });
  Object.assign(f.host, { exec: crictlOnly(runtime.bin) });
  setup(f, ns);
  let stderr = '';
  const code = await run(['run'], { stdout: () => {}, stderr: (t) => { stderr += t; }, env }, () => f.host);
  const result = api.get('chaosresults', 'litmus', 'shop-chaos-pod-dependency-latency');
  return { code, stderr, ns, lines: f.lines, result };
}

describe('netchaos run (Litmus mode)', () => {
  test('injects into the pod on this node toward the Service (ClusterIP and endpoint), reverts, reports Pass', async () => {
    const before = api.list('events', 'litmus').length;
    const r = await litmusRun(baseEnv());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.ns.tcOps.filter((o) => o !== 'show'), ['apply', 'revert']);
    const batch = r.ns.calls.find((c) => c.op === 'apply')!;
    assert.deepEqual(batch.netns, { kind: 'pid', pid: 23917 });
    for (const addr of ['192.0.2.10', '10.96.0.20', '10.244.1.5']) assert.match(batch.lines!.join('\n'), new RegExp(addr.replaceAll('.', '\\.')));
    assert.equal(r.result?.status.experimentStatus.phase, 'Completed');
    assert.equal(r.result?.status.experimentStatus.verdict, 'Pass');
    assert.deepEqual(r.result?.status.history.targets, [{ name: 'frontend-1', kind: 'pod', chaosStatus: 'reverted' }]);
    const reasons = api.list('events', 'litmus').slice(before).map((e) => `${e.involvedObject.kind}/${e.reason}`);
    assert.deepEqual(reasons, ['ChaosResult/Awaited', 'ChaosEngine/TargetSelection', 'ChaosEngine/PreChaosCheck', 'ChaosEngine/BlastRadius', 'ChaosEngine/ChaosInject', 'ChaosEngine/PostChaosCheck', 'ChaosResult/Pass', 'ChaosEngine/Summary']);
    // The pod's /proc/<pid>/net tables are not faked here: the blast radius says so (test/unit/blast-report.test.ts has the table).
    assert.match(String(r.result?.status.netchaosBlastRadius?.['frontend-1']?.error), /cannot read \/proc\/23917\/net\/tcp/);
    assert.ok(r.lines.some((l) => /shop\/frontend-2 \(node-b\)/.test(l.msg)), 'the pod elsewhere is in the log');
    assert.ok(r.lines.some((l) => /dependency service shop\/api: ClusterIP 10.96.0.20 ports 80; endpoint 10.244.1.5 ports 8080/.test(l.msg)));
  });
  for (const [addedMs, verdict] of [[100, 'Pass'], [10, 'Fail']] as const) {
    test(`MEASURE_EFFECT + VERIFY_EFFECT: the effect goes into status.netchaosEffect and the Summary Event; ${verdict} (+${addedMs} ms measured)`, async () => {
      const before = api.list('events', 'litmus').length;
      const r = await litmusRun({ ...baseEnv(), DESTINATION_SERVICES: '', DESTINATION_IPS: '192.0.2.11', VERIFY_EFFECT: 'true' }, (f, ns) => {
        const prober: EffectProber = {
          probe: async (_t, req) => {
            await Promise.resolve();
            const ms = ns.root.handle === '4e43:' ? 0.3 + addedMs : 0.3;
            return Object.fromEntries(req.destinations.map((t) => [t.id, { samples: Array.from({ length: t.samples }, () => ms), errors: {} }]));
          },
          counters: async () => { await Promise.resolve(); return [{ device: 'eth0', handle: '4e44:', kind: 'netem', packets: 10, bytes: 740, drops: 0 }]; },
        };
        Object.assign(f.host, { prober });
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.result?.status.experimentStatus.verdict, verdict);
      const effect = r.result?.status.netchaosEffect['frontend-1'] as EffectReport;
      assert.equal(effect.dependencies[0]?.id, '192.0.2.11');
      assert.equal(effect.dependencies[0]?.addedMs, addedMs);
      assert.deepEqual(effect.bands[0], { band: 4, side: 'egress', device: 'eth0', netemHandle: '4e44:', description: '+100ms', packets: 10, bytes: 740, drops: 0 });
      if (verdict === 'Fail') assert.equal(r.result?.status.experimentStatus.errorOutput.errorCode, 'EFFECT_CHECK_ERROR');
      const summary = api.list('events', 'litmus').slice(before).find((e) => e.reason === 'Summary');
      assert.match(summary?.message, new RegExp(`frontend-1: effect \\(egress\\): 192\\.0\\.2\\.11 \\+${addedMs} ms \\(expected \\+100\\)`));
    });
  }
  describe('DEPENDENCY_REFRESH in place (the refresh loop of local inject, one per target)', () => {
    const slice = () => api.get('endpointslices', 'shop', 'api-1')!;
    const moveTo = (addr: string) => { slice().endpoints = [{ addresses: [addr], conditions: { ready: true } }]; };
    const env = () => ({ ...baseEnv(), DEPENDENCY_REFRESH_INTERVAL: '1', TOTAL_CHAOS_DURATION: '3' });
    const applies = (ns: FakeNetns) => ns.calls.filter((c) => c.op === 'apply').length;
    // Each test sets a clock of its own: Event names are made from the time (the others' fixed clock would make them clash).
    const refreshEvents = (from: number) => api.list('events', 'litmus').slice(from).filter((e) => e.reason === 'DependencyRefresh');

    test('the EndpointSlice moves mid-run: the diff is applied by handle, an Event on the ChaosEngine, status.netchaosRefresh, the Summary', async () => {
      const before = api.list('events', 'litmus').length;
      try {
        const r = await litmusRun(env(), (f, ns) => { f.clock.t = 7_100_000_000; ns.afterCall = (c) => { if (c.op === 'apply' && applies(ns) === 1) moveTo('10.244.1.6'); }; });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual([r.result?.status.experimentStatus.phase, r.result?.status.experimentStatus.verdict], ['Completed', 'Pass']);
        assert.deepEqual(r.ns.tcOps.filter((o) => o === 'apply' || o === 'revert'), ['apply', 'apply', 'revert'], 'the first batch, the diff, the revert');
        const diff = r.ns.batches[1]!.join('\n');
        assert.match(diff, /^filter del dev eth0 parent 4e43: protocol ip prio \d+ handle [0-9a-f]+:[0-9a-f]*:[0-9a-f]+ u32$/m, 'the old endpoint deleted by its handle');
        assert.match(diff, /match ip dst 10\.244\.1\.6\/32 match ip dport 8080 0xffff/, 'the new endpoint added');
        assert.doesNotMatch(diff, /10\.96\.0\.20|192\.0\.2\.10/, 'the ClusterIP and DESTINATION_IPS are not touched');
        const refresh = r.result?.status.netchaosRefresh;
        assert.deepEqual([refresh?.intervalS, refresh?.changes, refresh?.stale, refresh?.failed], [1, 1, 0, 0]);
        assert.deepEqual(refresh?.history.map((e: Record<string, unknown>) => ({ ...e, at: typeof e.at })),
          [{ at: 'string', target: 'shop/frontend-1', source: 'service shop/api', kind: 'changed', added: ['10.244.1.6|8080'], removed: ['10.244.1.5|8080'] }]);
        const events = refreshEvents(before);
        assert.deepEqual(events.map((e) => [e.type, e.involvedObject.kind, e.message]),
          [['Normal', 'ChaosEngine', 'shop/frontend-1: dependency service shop/api moved, filters updated: added 10.244.1.6|8080, removed 10.244.1.5|8080']]);
        assert.match(api.list('events', 'litmus').slice(before).find((e) => e.reason === 'Summary')?.message, /DEPENDENCY_REFRESH: 1 move\(s\) applied, 0 failed lookup\(s\) \(last addresses kept\), 0 change\(s\) not applied/);
        assert.ok(r.lines.some((l) => /dependency service shop\/api moved: added 10\.244\.1\.6\|8080, removed 10\.244\.1\.5\|8080/.test(l.msg)), 'logged');
      } finally {
        moveTo('10.244.1.5');
      }
    });

    test('tc refuses the diff: rolled back, a Warning Event, counted as failed; applied at the next refresh', async () => {
      const before = api.list('events', 'litmus').length;
      try {
        const r = await litmusRun(env(), (f, ns) => {
          f.clock.t = 7_200_000_000;
          ns.afterCall = (c) => {
            if (c.op !== 'apply') return;
            if (applies(ns) === 1) { moveTo('10.244.1.6'); ns.batchFailsAt = 2; } else ns.batchFailsAt = undefined;
          };
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.result?.status.experimentStatus.verdict, 'Pass', 'a diff that was rolled back does not end the run');
        assert.deepEqual(r.ns.tcOps.filter((o) => o === 'apply' || o === 'revert'), ['apply', 'apply', 'apply', 'apply', 'revert'], 'batch, refused diff, its rollback, the diff again, revert');
        const refresh = r.result?.status.netchaosRefresh;
        assert.deepEqual([refresh?.changes, refresh?.stale, refresh?.failed], [1, 0, 1]);
        assert.deepEqual(refresh?.history.map((e: Record<string, unknown>) => e.kind), ['failed', 'changed']);
        const events = refreshEvents(before);
        assert.deepEqual(events.map((e) => e.type), ['Warning', 'Normal']);
        assert.match(events[0]?.message, /^shop\/frontend-1: dependency change NOT applied \(service shop\/api: \+10\.244\.1\.6\|8080 -10\.244\.1\.5\|8080\): tc rejected line 2 of the refresh batch .*the filters stay as they were/);
      } finally {
        moveTo('10.244.1.5');
      }
    });

    test('the Service stops resolving: its last addresses are kept, one Warning Event (not one per interval), every failure in the history', async () => {
      const before = api.list('events', 'litmus').length;
      const saved = structuredClone(slice());
      try {
        const r = await litmusRun(env(), (f, ns) => { f.clock.t = 7_300_000_000; ns.afterCall = (c) => { if (c.op === 'apply' && applies(ns) === 1) api.remove('endpointslices', 'shop', 'api-1'); }; });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.result?.status.experimentStatus.verdict, 'Pass');
        assert.deepEqual(r.ns.tcOps.filter((o) => o === 'apply' || o === 'revert'), ['apply', 'revert'], 'the filters stay');
        const refresh = r.result?.status.netchaosRefresh;
        assert.ok(refresh?.stale >= 2, `every failed lookup counted: ${JSON.stringify(refresh)}`);
        assert.equal(refresh?.history.length, refresh?.stale);
        const events = refreshEvents(before);
        assert.equal(events.length, 1, 'one Warning per target and source a minute');
        assert.equal(events[0]?.type, 'Warning');
        assert.match(events[0]?.message, /^shop\/frontend-1: dependency service shop\/api did not resolve \(.*\): keeping its last addresses, asking again in 1s$/);
      } finally {
        api.add('endpointslices', { metadata: { name: saved.metadata.name, namespace: 'shop', labels: saved.metadata.labels }, addressType: saved.addressType, ports: saved.ports, endpoints: saved.endpoints });
      }
    });
  });
  test('SIGTERM (the engine is stopped): revert first, then Stopped/Stopped, exit 0 (recorded)', async () => {
    const r = await litmusRun(baseEnv(), (f, ns) => {
      ns.afterCall = (c) => { if (c.op === 'apply') f.signals.send('SIGTERM'); };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.ns.tcOps.filter((o) => o !== 'show'), ['apply', 'revert']);
    assert.deepEqual([r.result?.status.experimentStatus.phase, r.result?.status.experimentStatus.verdict], ['Stopped', 'Stopped']);
    assert.equal(r.result?.status.experimentStatus.errorOutput.errorCode, 'EXPERIMENT_ABORTED');
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /stopped by SIGTERM.*the fault was reverted first/);
  });
  test('no target on this node: Error with the reason, exit 0 (recorded), nothing changed', async () => {
    const r = await litmusRun({ ...baseEnv(), NODE_NAME: 'node-c' });
    assert.equal(r.code, 0);
    assert.deepEqual(r.ns.calls, []);
    assert.deepEqual([r.result?.status.experimentStatus.phase, r.result?.status.experimentStatus.verdict], ['Error', 'Error']);
    assert.equal(r.result?.status.experimentStatus.errorOutput.errorCode, 'TARGET_SELECTION_ERROR');
    assert.match(r.stderr, /not on this node node-c.*nodeSelector/);
  });
  test('a target pod with hostNetwork: true: refused before any change (its namespace is the node\'s), Error verdict, exit 0 (recorded)', async () => {
    const p = pod({ name: 'hostnet-1', namespace: 'shop', node: 'node-a', labels: { app: 'hostnet' }, owner: { kind: 'ReplicaSet', name: 'hostnet-5d8f' }, containerId: `containerd://${ID}` });
    p.spec.hostNetwork = true;
    api.add('pods', p);
    let r;
    try {
      r = await litmusRun({ ...baseEnv(), TARGETS: 'deployment:shop:[app=hostnet]' });
    } finally {
      api.remove('pods', 'shop', 'hostnet-1'); // the other tests select every deployment pod of shop
    }
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.ns.calls, []);
    assert.deepEqual([r.result?.status.experimentStatus.phase, r.result?.status.experimentStatus.verdict], ['Error', 'Error']);
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /pod shop\/hostnet-1 runs with hostNetwork: true: its network namespace is node node-a's own.*nothing was changed/);
  });
  test('a dependency Service without endpoints: Error before any change', async () => {
    api.add('services', { metadata: { name: 'down', namespace: 'shop' }, spec: { clusterIP: '10.96.0.99', ports: [{ port: 80 }] } });
    const r = await litmusRun({ ...baseEnv(), DESTINATION_SERVICES: 'shop/down' });
    assert.equal(r.code, 0);
    assert.deepEqual(r.ns.tcOps.filter((o) => o !== 'show'), []);
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /shop\/down has no ready endpoints/);
  });
  test('a plan that discovery makes impossible (a Service address given another fault): Error/Error, not Running; exit 0 (recorded), nothing changed', async () => {
    // The input alone is fine (buildSpec passes); the Service's ClusterIP, found at run time, is also FAULTS #1's destination.
    const r = await litmusRun({ ...baseEnv(), FAULTS: 'loss=5@10.96.0.20|80' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.ns.calls, [], 'no tc call: nothing was changed');
    assert.deepEqual([r.result?.status.experimentStatus.phase, r.result?.status.experimentStatus.verdict], ['Error', 'Error']);
    assert.equal(r.result?.status.experimentStatus.errorOutput.errorCode, 'GENERIC_ERROR');
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /FAULTS: 10\.96\.0\.20\/32 dport 80 is given two different faults \(in DESTINATION_IPS and FAULTS #1\)/);
    assert.match(r.stderr, /10\.96\.0\.20\/32 dport 80 is given two different faults/);
  });
  test('the runtime socket missing and no cgroup match: CONTAINER_RUNTIME_ERROR', async () => {
    const r = await litmusRun({ ...baseEnv(), SOCKET_PATH: join(dir, 'missing.sock'), CONTAINER_RUNTIME: 'containerd' });
    assert.equal(r.code, 0);
    assert.equal(r.result?.status.experimentStatus.errorOutput.errorCode, 'CONTAINER_RUNTIME_ERROR');
    assert.match(r.stderr, /missing.sock does not exist/);
  });
  test('malformed TARGETS and a missing NODE_NAME: exit 0 (Error recorded), nothing changed, ChaosResult Error says why', async () => {
    const calls = api.calls.length;
    const r = await litmusRun({ ...baseEnv(), TARGETS: 'deployment:shop:app=frontend', NODE_NAME: '' });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /TARGETS: "deployment:shop:app=frontend" is not <kind>:<namespace>:\[<labels>\|<names>\]/);
    assert.match(r.stderr, /NODE_NAME: unknown node/);
    assert.deepEqual(r.ns.calls, [], 'no tc call: nothing was changed');
    const writes = api.calls.slice(calls).filter((c) => c.verb !== 'get' && c.verb !== 'list').map((c) => `${c.verb} ${c.resource}`);
    assert.ok(writes.every((w) => /chaosresults|events/.test(w)), `only the ChaosResult and Events are written: ${writes.join(', ')}`);
    assert.deepEqual([r.result?.status.experimentStatus.phase, r.result?.status.experimentStatus.verdict], ['Error', 'Error']);
    assert.match(r.result?.status.experimentStatus.errorOutput.reason, /bad input, nothing was changed: TARGETS: .*NODE_NAME: unknown node/);
  });
  test('bad input without CHAOSENGINE (not run by Litmus): exit 2 and no API call at all', async () => {
    const calls = api.calls.length;
    const env = baseEnv();
    delete env['CHAOSENGINE'];
    const r = await litmusRun({ ...env, TARGETS: 'nope' });
    assert.equal(r.code, 2);
    assert.equal(api.calls.length, calls);
  });
});

describe('netchaos run: the exit contract (as litmus-go: exit 0 once the verdict is recorded)', () => {
  const fresh = (id: string): Record<string, string> => ({ ...baseEnv(), INSTANCE_ID: id });
  const resultOf = (id: string) => api.get('chaosresults', 'litmus', `shop-chaos-pod-dependency-latency-${id}`);
  test('tc refusing the batch: Error/CHAOS_INJECT_ERROR recorded (never left Running), exit 0, nothing left', async () => {
    const r = await litmusRun(fresh('apply-fails'), (_f, ns) => { ns.batchFailsAt = 1; });
    assert.equal(r.code, 0, r.stderr);
    const st = resultOf('apply-fails')?.status;
    assert.deepEqual([st.experimentStatus.phase, st.experimentStatus.verdict], ['Error', 'Error']);
    assert.match(st.experimentStatus.errorOutput.errorCode, /CHAOS_INJECT_ERROR|GENERIC_ERROR/);
    assert.equal(r.ns.root.kind, 'noqueue', 'nothing left in the namespace');
    assert.match(r.stderr, /verdict|netchaos: /);
  });
  test('failedRuns counts Fail only; a status check that keeps failing after the chaos: retried every STATUS_CHECK_DELAY up to STATUS_CHECK_TIMEOUT, then Error/STATUS_CHECKS_ERROR and "AUT: Not Running"', async () => {
    await litmusRun({ ...fresh('counts'), NODE_NAME: 'node-c' });
    assert.deepEqual(resultOf('counts')?.status.history, { passedRuns: 0, failedRuns: 0, stoppedRuns: 0, targets: [] });
    // Every pod of the TARGETS entry is checked: frontend-2 (node-b, not injected) turns unready during the chaos.
    const other = api.get('pods', 'shop', 'frontend-2')!;
    const before = api.list('events', 'litmus').length;
    let sleeps: number[] = [];
    try {
      await litmusRun({ ...fresh('counts'), STATUS_CHECK_DELAY: '2', STATUS_CHECK_TIMEOUT: '10' }, (f, ns) => {
        ns.afterCall = (c) => { if (c.op === 'apply') for (const cs of other.status.containerStatuses) cs.ready = false; };
        sleeps = f.clock.sleeps;
      });
    } finally {
      for (const cs of other.status.containerStatuses) cs.ready = true;
    }
    const st = resultOf('counts')?.status;
    assert.deepEqual([st.experimentStatus.phase, st.experimentStatus.verdict, st.experimentStatus.errorOutput.errorCode], ['Error', 'Error', 'STATUS_CHECKS_ERROR']);
    assert.match(st.experimentStatus.errorOutput.reason, /shop\/frontend-2: container\(s\) .* not ready/);
    assert.equal(sleeps.filter((ms) => ms === 2000).length, 5, 'tried every 2 s for 10 s');
    // litmus-go's reason for it (experiments/generic/pod-network-latency/experiment/pod-network-latency.go): PostChaosCheck, on the ChaosEngine.
    assert.deepEqual(api.list('events', 'litmus').slice(before).filter((e) => e.type === 'Warning' && /^AUT: Not Running/.test(e.message)).map((e) => `${e.involvedObject.kind}/${e.reason}`), ['ChaosEngine/PostChaosCheck']);
    assert.deepEqual([st.history.passedRuns, st.history.failedRuns, st.history.stoppedRuns], [0, 0, 0]);
  });
  test('TARGETS=deployment:shop:[] (only appns in the engine) selects the deployment pods of the namespace; SEQUENCE=random is accepted', async () => {
    const r = await litmusRun({ ...fresh('all'), TARGETS: 'deployment:shop:[]', SEQUENCE: 'random' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.ns.tcOps.filter((o) => o !== 'show'), ['apply', 'revert']);
    assert.deepEqual(resultOf('all')?.status.experimentStatus.verdict, 'Pass', r.stderr);
  });
  for (const [what, answer] of [['403', () => forbiddenRequest({ user: 'system:serviceaccount:litmus:runner', verb: 'patch', resource: 'chaosresults', group: 'litmuschaos.io', namespace: 'litmus', name: 'x' })], ['500', () => internalError('etcdserver: request timed out')]] as const) {
    test(`the final patch refused (${what}): the verdict is not recorded → non-zero exit and a loud stderr line; the fault is reverted`, async () => {
      const id = `final-${what}`;
      const r = await litmusRun(fresh(id), (_f, ns) => {
        // Every patch of the ChaosResult after the fault is reverted fails (the verdict's included).
        ns.afterCall = (c) => { if (c.op === 'revertOnce') api.failNext({ verb: 'patch', resource: 'chaosresults', times: 50, answer: answer() }); };
      });
      (api as unknown as { failures: unknown[] }).failures.length = 0; // what was not used up must not reach the next test
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /THE VERDICT WAS NOT RECORDED: ChaosResult litmus\/shop-chaos-pod-dependency-latency-final-\d+ could not be updated .*This run's verdict: Pass/);
      assert.deepEqual(r.ns.tcOps.filter((o) => o !== 'show'), ['apply', 'revert']);
      assert.equal(resultOf(id)?.status.experimentStatus.phase, 'Running', 'the double kept what it was last told');
    });
  }
});

describe('netchaos run: resilience probes (wired as litmus-go runs them: pkg/probe/probe.go, pkg/result/chaosresult.go)', () => {
  const peer = new Peer();
  before(async () => { await peer.start(); });
  after(async () => { await peer.stop(); });
  const withEngine = (name: string, probes: unknown[]): Record<string, string> => {
    api.add('chaosengines', { metadata: { name, namespace: 'litmus' }, spec: { engineState: 'active', experiments: [{ name: 'pod-dependency-latency', spec: { probe: probes } }] } });
    return { ...baseEnv(), CHAOSENGINE: name };
  };
  // Real time: the probes run on it, so the chaos window must last (TOTAL_CHAOS_DURATION).
  const probeRun = (env: Record<string, string>, slowMs: number) => litmusRun({ ...env, TOTAL_CHAOS_DURATION: env['TOTAL_CHAOS_DURATION'] ?? '2' }, (f, ns) => {
    Object.assign(f.host, { clock: realClock });
    // The application answers slowly while the fault is in place (it waits on the delayed dependency).
    ns.afterCall = (c) => { if (c.op === 'apply') peer.delayMs = slowMs; if (c.op === 'revertOnce') peer.delayMs = 0; };
  });
  test('an SOT probe that passes and an OnChaos probe slower than its timeout: one Passed one Failed, "50", Completed_With_Probe_Failure, Fail, exit 0', async () => {
    const env = withEngine('probes-a', [
      httpProbe('front-up', 'SOT', peer.url('/'), { run: { probeTimeout: '2s' } }),
      httpProbe('front-fast', 'OnChaos', peer.url('/'), { run: { probeTimeout: '300ms', interval: '100ms', probePollingInterval: '200ms' } }),
    ]);
    const before = api.list('events', 'litmus').length;
    const r = await probeRun(env, 1000);
    assert.equal(r.code, 0, r.stderr);
    const st = api.get('chaosresults', 'litmus', 'probes-a-pod-dependency-latency')?.status;
    assert.deepEqual((st.probeStatuses as { name: string; status: { verdict: string } }[]).map((p) => `${p.name}:${p.status.verdict}`), ['front-up:Passed', 'front-fast:Failed']);
    assert.deepEqual([st.experimentStatus.phase, st.experimentStatus.verdict, st.experimentStatus.probeSuccessPercentage], ['Completed_With_Probe_Failure', 'Fail', '50']);
    assert.equal(st.history.failedRuns, 1);
    assert.deepEqual(r.ns.tcOps.filter((o) => o !== 'show'), ['apply', 'revert']);
    const events = api.list('events', 'litmus').slice(before);
    assert.match(events.find((e) => e.reason === 'PreChaosCheck')?.message, /AUT: Running, Probes: Successful/);
    assert.match(events.find((e) => e.reason === 'PostChaosCheck')?.message, /Probes: Unsuccessful/);
    assert.match(events.find((e) => e.reason === 'Summary')?.message, /resilience probes: 1 of 2 passed/);
  });
  test('invalid probes: Error before any change (no tc call), the problem named', async () => {
    const r = await probeRun(withEngine('probes-bad', [httpProbe('x', 'SOT', peer.url('/'), { run: { probeTimeout: '5' } })]), 0);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.ns.calls, []);
    const st = api.get('chaosresults', 'litmus', 'probes-bad-pod-dependency-latency')?.status;
    assert.deepEqual([st.experimentStatus.phase, st.experimentStatus.verdict], ['Error', 'Error']);
    assert.match(st.experimentStatus.errorOutput.reason, /probe "x": runProperties.probeTimeout/);
  });
  test('a Continuous probe with stopOnFailure fails during the chaos: reverted at once, Stopped/Stopped, engine set to stop', async () => {
    const env = withEngine('probes-stop', [httpProbe('guard', 'Continuous', peer.url('/'), { run: { probeTimeout: '300ms', interval: '100ms', probePollingInterval: '200ms', stopOnFailure: true } })]);
    const t0 = Date.now();
    const r = await probeRun({ ...env, TOTAL_CHAOS_DURATION: '20' }, 1000);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 15_000, 'the run did not wait for the whole chaos');
    assert.deepEqual(r.ns.tcOps.filter((o) => o !== 'show'), ['apply', 'revert']);
    const st = api.get('chaosresults', 'litmus', 'probes-stop-pod-dependency-latency')?.status;
    assert.deepEqual([st.experimentStatus.phase, st.experimentStatus.verdict], ['Stopped', 'Stopped']);
    assert.equal(st.history.stoppedRuns, 1);
    assert.equal(api.get('chaosengines', 'litmus', 'probes-stop')?.spec.engineState, 'stop');
  });
});
