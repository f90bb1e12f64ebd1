/**
 * Modes and runProperties, against a real HTTP peer, with small durations: which probes run when and in
 * parallel with the chaos (litmus-go pkg/probe/probe.go RunProbes; the trigger*Probe functions of
 * httpprobe.go), how Edge and stopOnFailure are judged (probe.go markedVerdictInEnd, setProbeVerdict,
 * stopChaosEngine), attempts/interval (utils/retry/retry.go), and the ChaosResult the run ends with
 * (pkg/result/chaosresult.go updateResultAttributes, probe.go SetProbeVerdictAfterFailure).
 * Time limits are at least twice what the machine needs; counts are bounds, never exact tick counts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareProbes, type ProbeSet, ProbeStopRequest, type ProbeEnvironment } from '../../src/probes/index.ts';
import { memoryLogger } from '../support/fake-ports.ts';
import { engine, EXPERIMENT, httpProbe, type Json, Peer } from './probe-fixtures.ts';

const peer = new Peer();
before(async () => { await peer.start(); });
after(async () => { await peer.stop(); });

function setup(list: Json[], env: Partial<ProbeEnvironment> = {}) {
  const logger = memoryLogger();
  const r = prepareProbes(engine(list), EXPERIMENT, { log: logger.log, ...env });
  if (!r.ok) assert.fail(r.message);
  return { probes: r.probes, lines: logger.lines };
}

const verdicts = (p: ProbeSet): Record<string, string> => Object.fromEntries(p.statuses().map((s) => [s.name, s.status.verdict]));
const never = (): AbortSignal => new AbortController().signal;

describe('when each mode runs (probe.go RunProbes)', () => {
  test('SOT before the chaos, Continuous from before until after, OnChaos only while the fault is in, EOT after', async () => {
    const { probes } = setup([
      httpProbe('sot', 'SOT', peer.url('/sot')),
      httpProbe('cont', 'Continuous', peer.url('/cont'), { run: { probePollingInterval: '40ms' } }),
      httpProbe('onchaos', 'OnChaos', peer.url('/on'), { run: { probePollingInterval: '40ms' } }),
      httpProbe('eot', 'EOT', peer.url('/eot')),
    ]);
    try {
      assert.deepEqual(await probes.beforeChaos(never()), { kind: 'continue' });
      const preChaosEnd = Date.now();
      await sleep(300);
      const chaosStart = Date.now();
      assert.deepEqual(await probes.chaosStarted({ durationMs: 60_000 }), { kind: 'continue' });
      await sleep(400);
      probes.chaosEnded();
      const chaosEnd = Date.now();
      await sleep(150); // a try under way at the revert may still arrive
      const onAtRevert = peer.hitsOn('/on').length;
      await sleep(300);
      assert.equal(peer.hitsOn('/on').length, onAtRevert, 'OnChaos starts no try after the revert');
      const postStart = Date.now();
      assert.deepEqual(await probes.afterChaos(never()), { kind: 'continue' });
      const contAtPost = peer.hitsOn('/cont').length;
      await sleep(300);
      assert.equal(peer.hitsOn('/cont').length, contAtPost, 'Continuous stopped at PostChaos');

      assert.ok(peer.hitsOn('/sot').every((h) => h.at <= preChaosEnd), 'SOT ran in PreChaos');
      const on = peer.hitsOn('/on');
      assert.ok(on.length >= 2, `OnChaos probed during the chaos (${on.length} tries)`);
      assert.ok(on.every((h) => h.at >= chaosStart), 'OnChaos never probed before the chaos');
      const cont = peer.hitsOn('/cont');
      assert.ok(cont.some((h) => h.at < chaosStart), 'Continuous probed before the chaos');
      assert.ok(cont.some((h) => h.at > chaosEnd + 150), 'Continuous probed after the revert, until PostChaos');
      assert.ok(peer.hitsOn('/eot').every((h) => h.at >= postStart), 'EOT ran in PostChaos');
      assert.deepEqual(verdicts(probes), { sot: 'Passed', cont: 'Passed', onchaos: 'Passed', eot: 'Passed' });
      const final = probes.finalResult({ phase: 'Completed', verdict: 'Pass' });
      assert.deepEqual([final.phase, final.verdict, final.probeSuccessPercentage, final.passed, final.total], ['Completed', 'Pass', '100', 4, 4]);
    } finally {
      await probes.close();
    }
  });

  test('the issue\'s scenario: an SOT probe passes, an OnChaos probe with a timeout below the slowdown fails → 50, Completed_With_Probe_Failure, Fail', async () => {
    peer.routes.set('/front', (_req, res) => { setTimeout(() => { res.writeHead(200); res.end(); }, slowMs); });
    let slowMs = 0;
    const { probes } = setup([
      httpProbe('front-ok-before', 'SOT', peer.url('/front'), { run: { probeTimeout: '150ms' } }),
      httpProbe('front-fast-during', 'OnChaos', peer.url('/front'), { run: { probeTimeout: '150ms', probePollingInterval: '50ms' } }),
    ]);
    try {
      assert.deepEqual(await probes.beforeChaos(never()), { kind: 'continue' });
      slowMs = 400; // the fault: the dependency's latency slows the app's endpoint
      await probes.chaosStarted({ durationMs: 60_000 });
      await sleep(700);
      slowMs = 0;
      probes.chaosEnded();
      assert.deepEqual(await probes.afterChaos(never()), { kind: 'continue' }, 'a failed probe without stopOnFailure does not stop the run');
      const final = probes.finalResult({ phase: 'Completed', verdict: 'Pass' });
      assert.equal(final.phase, 'Completed_With_Probe_Failure');
      assert.equal(final.verdict, 'Fail');
      assert.equal(final.probeSuccessPercentage, '50');
      assert.deepEqual(final.probeStatuses.map((s) => `${s.name}:${s.status.verdict}`), ['front-ok-before:Passed', 'front-fast-during:Failed']);
      assert.match(final.probeStatuses[1]?.status.description ?? '', /within probeTimeout 150ms/);
    } finally {
      await probes.close();
    }
  });

  test('OnChaos lasts the chaos duration minus initialDelay, and stops by itself (triggerOnChaosHTTPProbe)', async () => {
    const { probes } = setup([httpProbe('on', 'OnChaos', peer.url('/window'), { run: { initialDelay: '200ms', probePollingInterval: '30ms' } })]);
    try {
      await probes.beforeChaos(never());
      const start = Date.now();
      await probes.chaosStarted({ durationMs: 700 });
      await sleep(1200);
      const hits = peer.hitsOn('/window');
      assert.ok(hits.length >= 2, `it probed (${hits.length})`);
      assert.ok((hits[0]?.at ?? 0) - start >= 190, 'the first try waited for initialDelay');
      assert.ok((hits.at(-1)?.at ?? Infinity) - start <= 700 + 300, `the last try started within the 700 ms chaos duration (at ${(hits.at(-1)?.at ?? 0) - start} ms)`);
      const count = hits.length;
      await sleep(200);
      assert.equal(peer.hitsOn('/window').length, count, 'no try after the window');
      await probes.afterChaos(never());
      assert.deepEqual(verdicts(probes), { on: 'Passed' });
    } finally {
      await probes.close();
    }
  });

  test('an OnChaos probe whose initialDelay outlasts the chaos never tries: Failed, with the reason (litmus-go would count it Passed)', async () => {
    const { probes } = setup([httpProbe('late', 'OnChaos', peer.url('/late'), { run: { initialDelay: '5s' } })]);
    try {
      await probes.beforeChaos(never());
      await probes.chaosStarted({ durationMs: 200 });
      await sleep(100);
      probes.chaosEnded();
      await probes.afterChaos(never());
      assert.equal(peer.hitsOn('/late').length, 0);
      const s = probes.statuses()[0]!.status;
      assert.equal(s.verdict, 'Failed');
      assert.match(s.description ?? '', /never completed a try: the chaos ended before its initialDelay \(5s\) was over/);
    } finally {
      await probes.close();
    }
  });
});

describe('Continuous and OnChaos: the first failure fails the probe and ends its loop', () => {
  test('a Continuous probe that fails once stays Failed, and stops probing', async () => {
    let status = 200;
    peer.routes.set('/flaky', (_req, res) => { res.writeHead(status); res.end(); });
    const { probes } = setup([httpProbe('flaky', 'Continuous', peer.url('/flaky'), { run: { probePollingInterval: '30ms' } })]);
    try {
      await probes.beforeChaos(never());
      await sleep(150);
      status = 500;
      await sleep(400);
      status = 200;
      const count = peer.hitsOn('/flaky').length;
      await sleep(200);
      assert.equal(peer.hitsOn('/flaky').length, count, 'no try after the failure');
      await probes.afterChaos(never());
      assert.deepEqual(verdicts(probes), { flaky: 'Failed' });
      assert.equal(probes.finalResult({ phase: 'Completed', verdict: 'Pass' }).probeSuccessPercentage, '0');
    } finally {
      await probes.close();
    }
  });

  test('stopOnFailure: the failure asks the run to stop (stopRequested, onStop); the result is Stopped; probes not judged are N/A', async () => {
    let status = 200;
    peer.routes.set('/critical', (_req, res) => { res.writeHead(status); res.end(); });
    const stops: ProbeStopRequest[] = [];
    const { probes } = setup([
      httpProbe('sot', 'SOT', peer.url('/ok')),
      httpProbe('critical', 'Continuous', peer.url('/critical'), { run: { probePollingInterval: '30ms', stopOnFailure: true } }),
      httpProbe('eot', 'EOT', peer.url('/ok')),
    ], { onStop: (r) => stops.push(r) });
    try {
      await probes.beforeChaos(never());
      await probes.chaosStarted({ durationMs: 60_000 });
      assert.equal(probes.stopRequested.aborted, false);
      status = 503;
      const t0 = Date.now();
      await new Promise<void>((resolve) => { probes.stopRequested.addEventListener('abort', () => { resolve(); }, { once: true }); });
      assert.ok(Date.now() - t0 < 1000, 'the stop came with the failure');
      const reason: unknown = probes.stopRequested.reason;
      assert.ok(reason instanceof ProbeStopRequest);
      assert.equal(reason.probe, 'critical');
      assert.equal(stops.length, 1);
      // the runner reverts, patches the engine to stop, and reports Stopped
      probes.chaosEnded();
      const final = probes.finalResult({ phase: 'Stopped', verdict: 'Stopped' });
      assert.deepEqual([final.phase, final.verdict, final.probeSuccessPercentage], ['Stopped', 'Stopped', '33']);
      assert.deepEqual(final.probeStatuses.map((s) => s.status.verdict), ['Passed', 'Failed', 'N/A']);
      assert.equal(final.probeStatuses[2]?.status.description, 'Either probe is not executed or not evaluated');
    } finally {
      await probes.close();
    }
  });

  test('a try under way when PostChaos starts finishes and counts; one that outlasts STATUS_CHECK_TIMEOUT fails with PROBE_TIMEOUT', async () => {
    let delay = 300;
    peer.routes.set('/slowtry', (_req, res) => { setTimeout(() => { res.writeHead(200); res.end(); }, delay); });
    const a = setup([httpProbe('slow', 'Continuous', peer.url('/slowtry'), { run: { probeTimeout: '5s' } })]);
    try {
      await a.probes.beforeChaos(never());
      await sleep(100);
      assert.deepEqual(await a.probes.afterChaos(never()), { kind: 'continue' });
      assert.deepEqual(verdicts(a.probes), { slow: 'Passed' });
    } finally {
      await a.probes.close();
    }
    delay = 3000;
    const b = setup([httpProbe('slower', 'Continuous', peer.url('/slowtry'), { run: { probeTimeout: '5s' } })], { context: { statusCheckTimeoutMs: 200 } });
    try {
      await b.probes.beforeChaos(never());
      await sleep(100);
      const t0 = Date.now();
      await b.probes.afterChaos(never());
      assert.ok(Date.now() - t0 < 1500, 'the wait was bounded by STATUS_CHECK_TIMEOUT');
      const s = b.probes.statuses()[0]!.status;
      assert.equal(s.verdict, 'Failed');
      assert.match(s.description ?? '', /Probe is failed due to timeout/);
    } finally {
      await b.probes.close();
    }
  });

  test('a probe error in a Continuous probe ends the run Error at PostChaos; EOT probes do not run', async () => {
    peer.routes.set('/loop2', (_req, res) => { res.writeHead(302, { location: '/loop2' }); res.end(); });
    const { probes } = setup([
      httpProbe('broken', 'Continuous', peer.url('/loop2'), { run: { probePollingInterval: '50ms' } }),
      httpProbe('after', 'EOT', peer.url('/eot2')),
    ]);
    try {
      await probes.beforeChaos(never());
      await sleep(100);
      const r = await probes.afterChaos(never());
      assert.equal(r.kind, 'error');
      assert.equal(r.kind === 'error' ? r.errorCode : '', 'HTTP_PROBE_ERROR');
      assert.equal(peer.hitsOn('/eot2').length, 0);
      const final = probes.finalResult({ phase: 'Error', verdict: 'Error' });
      assert.deepEqual([final.phase, final.verdict, final.probeSuccessPercentage], ['Error', 'Error', '0']);
      assert.deepEqual(final.probeStatuses.map((s) => s.status.verdict), ['N/A', 'N/A']);
      assert.match(final.probeStatuses[0]?.status.description ?? '', /^Either probe is not executed or not evaluated: .*stopped after 10 redirects/);
    } finally {
      await probes.close();
    }
  });
});

describe('SOT/EOT/Edge verdicts (probe.go markedVerdictInEnd, setProbeVerdict)', () => {
  test('Edge passes only when both runs pass, and counts once', async () => {
    let status = 200;
    peer.routes.set('/edge', (_req, res) => { res.writeHead(status); res.end(); });
    const run = async (pre: number, post: number): Promise<[string, number]> => {
      const { probes } = setup([httpProbe('edge', 'Edge', peer.url('/edge'))]);
      status = pre;
      await probes.beforeChaos(never());
      assert.equal(probes.statuses()[0]!.status.verdict, pre === 200 ? 'Awaited' : 'Failed', 'PreChaos records a failure only');
      status = post;
      await probes.afterChaos(never());
      await probes.close();
      return [probes.statuses()[0]!.status.verdict, probes.passed];
    };
    assert.deepEqual(await run(200, 200), ['Passed', 1]);
    assert.deepEqual(await run(500, 200), ['Failed', 0]);
    assert.deepEqual(await run(200, 500), ['Failed', 0]);
    status = 200;
  });

  test('SOT with stopOnFailure: no chaos (beforeChaos says stop), later probes are not run; the result is Stopped/Stopped', async () => {
    const { probes } = setup([
      httpProbe('gate', 'SOT', peer.url('/gate'), { code: '204', run: { stopOnFailure: true } }),
      httpProbe('next', 'SOT', peer.url('/next')),
    ]);
    const r = await probes.beforeChaos(never());
    await probes.close();
    assert.equal(r.kind, 'stop');
    assert.equal(peer.hitsOn('/next').length, 0);
    // litmus-go RecordAfterFailure: a probe failure → Completed/Fail, then the stopped probe turns it to Stopped
    const final = probes.finalResult({ phase: 'Completed', verdict: 'Fail' });
    assert.deepEqual([final.phase, final.verdict, final.probeSuccessPercentage], ['Stopped', 'Stopped', '0']);
    assert.deepEqual(final.probeStatuses.map((s) => s.status.verdict), ['Failed', 'N/A']);
  });
});

describe('attempts, interval, initialDelay, probePollingInterval, verbosity', () => {
  test('attempt: 3 tries `interval` apart until one passes (retry.go Times/Wait)', async () => {
    let n = 0;
    peer.routes.set('/third', (_req, res) => { n++; res.writeHead(n >= 3 ? 200 : 503); res.end(); });
    const { probes } = setup([httpProbe('third', 'SOT', peer.url('/third'), { run: { attempt: 3, interval: '150ms' } })]);
    await probes.beforeChaos(never());
    await probes.close();
    const hits = peer.hitsOn('/third');
    assert.equal(hits.length, 3);
    assert.ok(hits[1]!.at - hits[0]!.at >= 140 && hits[2]!.at - hits[1]!.at >= 140, 'tries were interval apart');
    assert.deepEqual(verdicts(probes), { third: 'Passed' });
    n = -100;
    const two = setup([httpProbe('two', 'SOT', peer.url('/third'), { run: { retry: 2, interval: '10ms' } })]);
    await two.probes.beforeChaos(never());
    await two.probes.close();
    assert.deepEqual(verdicts(two.probes), { two: 'Failed' }, 'retry counts the tries when attempt is unset');
  });

  test('initialDelay is waited before the first try', async () => {
    const { probes } = setup([httpProbe('late', 'SOT', peer.url('/delayed'), { run: { initialDelay: '300ms' } })]);
    const t0 = Date.now();
    await probes.beforeChaos(never());
    await probes.close();
    assert.ok(peer.hitsOn('/delayed')[0]!.at - t0 >= 290);
  });

  test('probePollingInterval spaces the tries of a Continuous probe', async () => {
    const { probes } = setup([httpProbe('poll', 'Continuous', peer.url('/poll'), { run: { probePollingInterval: '200ms' } })]);
    await probes.beforeChaos(never());
    await sleep(1000);
    await probes.afterChaos(never());
    await probes.close();
    const hits = peer.hitsOn('/poll');
    assert.ok(hits.length >= 2 && hits.length <= 7, `about 5 tries in 1 s at 200 ms (got ${hits.length})`);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i]!.at - hits[i - 1]!.at >= 190);
  });

  test('verbosity "info" logs the comparison once; otherwise every try (comparator/*.go)', async () => {
    const count = async (verbosity: string): Promise<number> => {
      const { probes, lines } = setup([httpProbe('v', 'Continuous', peer.url('/verbose'), { run: { probePollingInterval: '20ms', verbosity } })]);
      await probes.beforeChaos(never());
      await sleep(300);
      await probes.afterChaos(never());
      await probes.close();
      return lines.filter((l) => l.msg.startsWith('[Probe]: {Actual value: 200}')).length;
    };
    assert.equal(await count('info'), 1);
    assert.ok(await count('') >= 3);
  });
});

describe('cancellation (the run\'s AbortSignal)', () => {
  test('an abort during initialDelay returns at once; nothing was judged, so everything is N/A', async () => {
    const { probes } = setup([httpProbe('waits', 'SOT', peer.url('/never'), { run: { initialDelay: '30s' } }), httpProbe('cont', 'Continuous', peer.url('/never'))]);
    const ac = new AbortController();
    setTimeout(() => { ac.abort(); }, 100);
    const t0 = Date.now();
    assert.deepEqual(await probes.beforeChaos(ac.signal), { kind: 'aborted' });
    assert.ok(Date.now() - t0 < 1000);
    await probes.close();
    assert.equal(peer.hitsOn('/never').length, 0);
    const final = probes.finalResult({ phase: 'Stopped', verdict: 'Stopped' });
    assert.deepEqual([final.verdict, final.probeSuccessPercentage, final.probeStatuses.map((s) => s.status.verdict).join()], ['Stopped', '0', 'N/A,N/A']);
  });

  test('an abort during a slow request abandons it (the try does not count)', async () => {
    peer.routes.set('/hang', () => { /* never answers */ });
    const { probes } = setup([httpProbe('hang', 'SOT', peer.url('/hang'), { run: { probeTimeout: '30s' } })]);
    const ac = new AbortController();
    setTimeout(() => { ac.abort(); }, 150);
    const t0 = Date.now();
    assert.deepEqual(await probes.beforeChaos(ac.signal), { kind: 'aborted' });
    assert.ok(Date.now() - t0 < 1000);
    await probes.close();
    assert.deepEqual(verdicts(probes), { hang: 'Awaited' });
  });
});

describe('the ChaosResult the run ends with (chaosresult.go updateResultAttributes)', () => {
  test('percentages, N/A, and a failed probe overriding Error (as litmus-go: Completed_With_Probe_Failure)', async () => {
    let status = 200;
    peer.routes.set('/mix', (_req, res) => { res.writeHead(status); res.end(); });
    const { probes } = setup([httpProbe('a', 'SOT', peer.url('/mix')), httpProbe('b', 'SOT', peer.url('/ok')), httpProbe('c', 'EOT', peer.url('/ok'))]);
    status = 500;
    await probes.beforeChaos(never());
    await probes.close();
    status = 200;
    // the run then failed before PostChaos (c never ran)
    const err = probes.finalResult({ phase: 'Error', verdict: 'Error' });
    assert.deepEqual([err.phase, err.verdict, err.probeSuccessPercentage], ['Completed_With_Probe_Failure', 'Fail', '33']);
    assert.deepEqual(err.probeStatuses.map((s) => s.status.verdict), ['Failed', 'Passed', 'N/A']);
    const none = setup([]);
    assert.equal(none.probes.finalResult({ phase: 'Completed', verdict: 'Pass' }).probeSuccessPercentage, '100');
    assert.equal(none.probes.finalResult({ phase: 'Completed', verdict: 'Fail' }).probeSuccessPercentage, '0');
    assert.equal(none.probes.finalResult({ phase: 'Error', verdict: 'Error' }).probeSuccessPercentage, '0');
  });

  test('the Summary line names every probe and its verdict', async () => {
    const { probes } = setup([httpProbe('a', 'SOT', peer.url('/ok')), httpProbe('b', 'EOT', peer.url('/ok'))]);
    await probes.beforeChaos(never());
    await probes.close();
    assert.equal(probes.summary(), 'resilience probes: 1 of 2 passed (a (httpProbe, SOT): Passed; b (httpProbe, EOT): N/A)');
  });
});
