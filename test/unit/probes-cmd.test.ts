/**
 * cmdProbe (litmus-go pkg/probe/cmdprobe.go): inline commands run for real by /bin/sh in this process's
 * namespace; `source` commands run in a probe pod created through the API double and exec'd into over a
 * real WebSocket (client-node's Exec against kube-exec-double.ts, which runs the argv on this machine).
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call -- API objects are raw JSON here */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeConfigFor } from '../../src/kube/api.ts';
import { createDynamicKube, createPodExec } from '../../src/kube/dynamic.ts';
import { prepareProbes, type ProbeEnvironment } from '../../src/probes/index.ts';
import { ApiDouble, type Obj, pod } from './kube-double.ts';
import { ExecFront } from './kube-exec-double.ts';
import { memoryLogger } from '../support/fake-ports.ts';
import { cmdProbe, engine, EXPERIMENT, type Json } from './probe-fixtures.ts';

const never = (): AbortSignal => new AbortController().signal;

function setup(list: Json[], env: Partial<ProbeEnvironment> = {}) {
  const logger = memoryLogger();
  const r = prepareProbes(engine(list), EXPERIMENT, { log: logger.log, ...env });
  if (!r.ok) assert.fail(r.message);
  return { probes: r.probes, lines: logger.lines };
}

async function sot(probe: Json, env: Partial<ProbeEnvironment> = {}) {
  const { probes } = setup([probe], env);
  const phase = await probes.beforeChaos(never());
  await probes.close();
  return { phase, status: probes.statuses()[0]!.status };
}

const INT42 = { type: 'int', criteria: '==', value: '42' };

describe('inline: the command runs in the experiment pod (this process), through /bin/sh -c', () => {
  test('a shell script (pipes, arithmetic) whose trimmed output matches passes; litmus-go\'s description', async () => {
    const r = await sot(cmdProbe('calc', 'SOT', 'echo "6 7" | awk \'{print $1*$2}\'', INT42));
    assert.deepEqual(r.status, { verdict: 'Passed', description: "Actual value: '42'. Expected value: == '42'" });
  });
  test('a mismatch fails with the values and stderr; the run goes on', async () => {
    const r = await sot(cmdProbe('calc', 'SOT', 'echo 41; echo "db slow" >&2', INT42));
    assert.equal(r.status.verdict, 'Failed');
    assert.equal(r.status.description, 'Actual value: 41. Expected value: equal to 42; stderr: db slow');
    assert.deepEqual(r.phase, { kind: 'continue' });
  });
  test('a non-zero exit is a probe error (CMD_PROBE_ERROR: "unable to run command"), as in litmus-go', async () => {
    const r = await sot(cmdProbe('curl', 'SOT', 'echo connection refused >&2; exit 7', { type: 'string', criteria: 'equal', value: 'ok' }));
    assert.equal(r.phase.kind, 'error');
    assert.equal(r.phase.kind === 'error' ? r.phase.errorCode : '', 'CMD_PROBE_ERROR');
    assert.match(r.phase.kind === 'error' ? r.phase.reason : '', /exited with code 7: connection refused/);
  });
  test('the command sees the experiment pod\'s environment (as litmus-go: exec.Command inherits it)', async () => {
    const r = await sot(cmdProbe('env', 'SOT', 'echo "$TARGET_URL"', { type: 'string', criteria: 'equal', value: 'http://app:8080' }), { env: { ...process.env, TARGET_URL: 'http://app:8080' } });
    assert.equal(r.status.verdict, 'Passed');
  });
  test('probeTimeout kills the whole process group (no sleep left behind) and fails the probe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netchaos-cmd-'));
    const pidFile = join(dir, 'pid');
    const t0 = Date.now();
    const r = await sot(cmdProbe('hang', 'SOT', `sleep 30 & echo $! > ${pidFile}; wait`, INT42, { run: { probeTimeout: '300ms' } }));
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(r.status.verdict, 'Failed');
    assert.match(r.status.description ?? '', /no result within probeTimeout 300ms \(probe failed due to timeout\)/);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    await sleep(100);
    assert.equal(existsSync(`/proc/${pid}`) && !(await readFile(`/proc/${pid}/stat`, 'utf8')).includes(') Z '), false, `the background sleep ${pid} was killed with its group`);
  });
  test('probe chaining: a registered output reaches the next command through the environment, never as code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netchaos-chain-'));
    const marker = join(dir, 'pwned');
    const { probes } = setup([
      cmdProbe('leader', 'SOT', `printf '%s' 'web-0 $(touch ${marker})'`, { type: 'string', criteria: 'contains', value: 'web-0' }),
      cmdProbe('check', 'SOT', 'echo "leader is {{ .leader.ProbeArtifacts.Register }}"', { type: 'string', criteria: 'equal', value: `leader is web-0 $(touch ${marker})` }),
    ]);
    await probes.beforeChaos(never());
    await probes.close();
    assert.deepEqual(probes.statuses().map((s) => s.status.verdict), ['Passed', 'Passed']);
    assert.equal(existsSync(marker), false, 'the registered text was not run by the shell');
  });
});

describe('source: a probe pod, exec over WebSocket (createProbePod, triggerSourceCmdProbe, deleteProbePod)', () => {
  const api = new ApiDouble();
  const front = new ExecFront(api);
  let env: Partial<ProbeEnvironment> = {};
  let kubeletStarts = true;
  before(async () => {
    await api.start();
    await front.start();
    api.kubelet = ({ verb, pod: p }) => {
      if (verb === 'create' && kubeletStarts) {
        p['status'] = { phase: 'Running', containerStatuses: p['spec'].containers.map((c: { name: string }) => ({ name: c.name, ready: true, state: { running: {} } })) };
      }
      if (verb === 'delete') api.remove('pods', p['metadata'].namespace, p['metadata'].name);
    };
    const runner = api.add('pods', pod({ name: 'runner-x1', namespace: 'litmus', node: 'n1', labels: { 'job-name': 'pod-network-chaos-abc', chaosUID: 'uid-1' }, containers: ['pod-network-chaos-abc'] }));
    runner['spec'].serviceAccountName = 'netchaos-runner';
    runner['spec'].containers[0].env = [{ name: 'TOTAL_CHAOS_DURATION', value: '60' }];
    runner['spec'].containers[0].resources = { limits: { cpu: '100m' } };
    const kc = await kubeConfigFor({ KUBECONFIG: front.kubeconfig() });
    env = {
      kube: createDynamicKube(kc), podExec: createPodExec(kc),
      context: { chaosNamespace: 'litmus', experimentName: EXPERIMENT, chaosUid: 'uid-1', podName: 'runner-x1', imagePullPolicy: 'IfNotPresent', statusCheckDelayMs: 50, statusCheckTimeoutMs: 1000 },
    };
  });
  after(async () => { await front.stop(); await api.stop(); });

  const probePods = (): Obj[] => api.list('pods', 'litmus').filter((p) => String(p['metadata'].name).startsWith(`${EXPERIMENT}-probe-`));

  test('the pod is built as litmus-go builds it, the command runs in it, and the pod is deleted after the phase', async () => {
    let seen: Obj | undefined;
    const kubelet = api.kubelet!;
    api.kubelet = (e) => { if (e.verb === 'create') seen = structuredClone(e.pod); return kubelet(e); };
    try {
      const r = await sot(cmdProbe('in-pod', 'SOT', 'echo $((6*7))', INT42, { source: { image: 'busybox:1.36', inheritInputs: true, env: [{ name: 'EXTRA', value: '1' }], labels: { team: 'sre' } } }), env);
      assert.deepEqual(r.status, { verdict: 'Passed', description: "Actual value: '42'. Expected value: == '42'" });
    } finally {
      api.kubelet = kubelet;
    }
    assert.ok(seen);
    const name = String(seen['metadata'].name);
    assert.match(name, new RegExp(`^${EXPERIMENT}-probe-[a-z0-9]{6}$`));
    assert.deepEqual(seen['metadata'].labels, { name, chaosUID: 'uid-1', team: 'sre' });
    assert.equal(seen['spec'].serviceAccountName, 'netchaos-runner', 'the runner pod\'s service account');
    assert.equal(seen['spec'].restartPolicy, 'Never');
    const c = seen['spec'].containers[0];
    assert.deepEqual([c.name, c.image, c.imagePullPolicy, c.command, c.args], [`${EXPERIMENT}-probe`, 'busybox:1.36', 'IfNotPresent', ['/bin/sh'], ['-c', 'sleep 10000']]);
    assert.deepEqual(c.env, [{ name: 'TOTAL_CHAOS_DURATION', value: '60' }, { name: 'EXTRA', value: '1' }], 'inheritInputs: the experiment container\'s env, then the source\'s');
    assert.deepEqual(c.resources, { limits: { cpu: '100m' } });
    assert.deepEqual(front.execs.at(-1), { namespace: 'litmus', pod: name, container: `${EXPERIMENT}-probe`, command: ['/bin/sh', '-c', 'echo $((6*7))'] });
    assert.deepEqual(probePods(), [], 'the probe pod was deleted');
  });

  test('a non-zero exit in the pod is a probe error; the pod is deleted anyway', async () => {
    const r = await sot(cmdProbe('bad', 'SOT', 'echo nope >&2; exit 3', INT42, { source: { image: 'busybox' } }), env);
    assert.equal(r.phase.kind, 'error');
    assert.match(r.phase.kind === 'error' ? r.phase.reason : '', /exited with code 3: nope/);
    assert.deepEqual(probePods(), []);
  });

  test('a probe pod that never runs: error after STATUS_CHECK_TIMEOUT, and it is deleted', async () => {
    kubeletStarts = false;
    try {
      const t0 = Date.now();
      const r = await sot(cmdProbe('pending', 'SOT', 'echo 42', INT42, { source: { image: 'busybox' } }), env);
      assert.ok(Date.now() - t0 >= 900 && Date.now() - t0 < 5000);
      assert.equal(r.phase.kind, 'error');
      assert.match(r.phase.kind === 'error' ? r.phase.reason : '', /is not running after 1 s \(STATUS_CHECK_TIMEOUT\): phase Pending/);
      assert.deepEqual(probePods(), []);
    } finally {
      kubeletStarts = true;
    }
  });

  test('Continuous: one pod from PreChaos to PostChaos, exec\'d into on every try, deleted after the verdict', async () => {
    const before = front.execs.length;
    const { probes } = setup([cmdProbe('watch', 'Continuous', 'echo 42', INT42, { source: { image: 'busybox' }, run: { probePollingInterval: '50ms' } })], env);
    await probes.beforeChaos(never());
    assert.equal(probePods().length, 1);
    await sleep(1200);
    assert.deepEqual(await probes.afterChaos(never()), { kind: 'continue' });
    await probes.close();
    const execs = front.execs.slice(before);
    assert.ok(execs.length >= 2, `several tries (${execs.length})`);
    assert.equal(new Set(execs.map((e) => e.pod)).size, 1, 'all in one pod');
    assert.deepEqual(probes.statuses().map((s) => s.status.verdict), ['Passed']);
    assert.deepEqual(probePods(), []);
  });

  test('close() deletes a probe pod left by an aborted run', async () => {
    const { probes } = setup([cmdProbe('watch', 'OnChaos', 'echo 42', INT42, { source: { image: 'busybox' }, run: { probePollingInterval: '50ms' } })], env);
    await probes.beforeChaos(never());
    await probes.chaosStarted({ durationMs: 60_000 });
    assert.equal(probePods().length, 1);
    await probes.close();
    assert.deepEqual(probePods(), []);
  });

  test('templates travel to the pod as `env NAME=value` argv elements', async () => {
    const before = front.execs.length;
    const { probes } = setup([
      cmdProbe('first', 'SOT', 'echo web-1', { type: 'string', criteria: 'equal', value: 'web-1' }),
      cmdProbe('second', 'SOT', 'echo "{{ .first.ProbeArtifacts.Register }}"', { type: 'string', criteria: 'equal', value: 'web-1' }, { source: { image: 'busybox' } }),
    ], env);
    await probes.beforeChaos(never());
    await probes.close();
    assert.deepEqual(probes.statuses().map((s) => s.status.verdict), ['Passed', 'Passed']);
    assert.deepEqual(front.execs.slice(before)[0]?.command, ['env', 'NETCHAOS_PROBE_first=web-1', '/bin/sh', '-c', 'echo "${NETCHAOS_PROBE_first}"']);
  });
});
