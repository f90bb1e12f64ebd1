/** MEASURE_EFFECT / VERIFY_EFFECT: probe selection, the report and its verdict, the lifecycle with a fake prober, exit 6. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Spec } from '../../src/model/spec.ts';
import type { NetnsRef } from '../../src/model/netns.ts';
import type { WorkerDestination, WorkerRequest, WorkerResult } from '../../src/model/probe.ts';
import type { EffectProber, Exec } from '../../src/ports.ts';
import { plan } from '../../src/tc/plan.ts';
import { parseCounters } from '../../src/tc/parse.ts';
import { inject } from '../../src/lifecycle/inject.ts';
import { run as cliRun } from '../../src/cli/main.ts';
import { effectReport, formatEffect, probeRequest, probeDestinations, MAX_PROBES } from '../../src/effect/effect.ts';
import { execProber, parseWorkerOutput } from '../../src/effect/probe.ts';
import { runProbe } from '../../src/effect/worker.ts';
import { type Env, specOf } from '../support/spec.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { fakeDeps } from '../support/fake-ports.ts';

const spec = (env: Env): Spec => specOf({ NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '10', ...env });
const same = (n: number, ms: number | null): (number | null)[] => Array.from({ length: n }, () => ms);
const ok = (samples: (number | null)[]): WorkerResult => ({ samples, errors: {} });

describe('which probes a plan calls for', () => {
  test('a port → TCP connect; no port → ping; a port exclusion → an untouched control; networks and source ports are not probed', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11|8080,2001:db8::11,198.51.100.0/24', FAULTS: 'loss=30@192.0.2.12' }));
    const sel = probeDestinations(p);
    assert.deepEqual(sel.destinations.map((t) => `${t.id} ${t.kind} ${t.role} +${t.expectedAddedMs}±${t.toleranceMs} loss ${t.expectedLossPct} ×${t.samples}`), [
      '192.0.2.11:8080 tcp fault +100±30 loss 0 ×5',
      '192.0.2.12 icmp fault +0±5 loss 30 ×20',
      '2001:db8::11 icmp fault +100±30 loss 0 ×5',
    ]);
    assert.match(sel.notes.join('\n'), /198\.51\.100\.0\/24 \(DESTINATION_IPS\) is not probed: not a single address/);
    const ex = probeDestinations(plan(spec({ DESTINATION_IPS: '192.0.2.11', DESTINATION_PORTS: '!9090' })));
    assert.deepEqual(ex.destinations.map((t) => `${t.id} ${t.role}`), ['192.0.2.11:9090 untouched', '192.0.2.11 fault']);
  });
  test('DIRECTION=both: a round trip crosses the fault twice (delay ×2, loss 1−(1−p)²)', () => {
    const [t] = probeDestinations(plan(spec({ DESTINATION_IPS: '192.0.2.11', NETWORK_PACKET_LOSS_PERCENTAGE: '10', DIRECTION: 'both' }))).destinations;
    assert.equal(t?.expectedAddedMs, 200);
    assert.equal(t?.expectedLossPct, 19);
  });
  test(`at most ${MAX_PROBES} dependencies; the phase budget is 5 s plus the largest expected delay`, () => {
    const many = Array.from({ length: 40 }, (_, i) => `198.51.100.${i * 2}`).join(',');
    const sel = probeDestinations(plan(spec({ DESTINATION_IPS: many })));
    assert.equal(sel.destinations.length, MAX_PROBES);
    assert.match(sel.notes.join(), /24 more dependencies are not probed/);
    assert.equal(probeRequest(sel.destinations, 'baseline').budgetMs, 5000);
    assert.equal(probeRequest(sel.destinations, 'during').budgetMs, 5130);
  });
});

describe('the report and its verdict', () => {
  const p = plan(spec({ DESTINATION_IPS: '192.0.2.11', DESTINATION_PORTS: '!9090', FAULTS: 'latency=100@192.0.2.13|8080 loss=30@192.0.2.12' }));
  const sel = probeDestinations(p);
  const base = { '192.0.2.13:8080': ok(same(5, 0.4)), '192.0.2.11': ok(same(5, 0.2)), '192.0.2.11:9090': ok(same(5, 0.4)), '192.0.2.12': ok(same(20, 0.3)) };
  const during = (b: number, excluded: number, lost: number): Record<string, WorkerResult> => ({
    '192.0.2.13:8080': ok(same(5, b)), '192.0.2.11': ok(same(5, 100.3)), '192.0.2.11:9090': ok(same(5, excluded)),
    '192.0.2.12': ok([...same(lost, null), ...same(20 - lost, 0.3)]),
  });
  const counters = [{ device: 'eth0', handle: '4e44:', kind: 'netem', packets: 12, bytes: 900, drops: 0 }, { device: 'eth0', handle: '4e45:', kind: 'netem', packets: 30, bytes: 2500, drops: 7 }];

  test('the configured effect is measured: every check ok, counters per band', () => {
    const r = effectReport({ plan: p, selection: sel, baseline: base, during: during(100.9, 0.5, 6), after: base, counters });
    assert.deepEqual(r.verdict, { ok: true, verified: 3, reasons: [] });
    const b = r.dependencies.find((d) => d.id === '192.0.2.13:8080');
    assert.equal(b?.addedMs, 100.5);
    assert.equal(r.dependencies.find((d) => d.id === '192.0.2.12')?.lossPct, 30);
    assert.deepEqual(r.bands.map((x) => `${x.band} ${x.side} ${x.packets}/${x.drops}`), ['4 egress 12/0', '5 egress 30/7']);
    const text = formatEffect(r, true);
    assert.match(text, /192\.0\.2\.13:8080\s+tcp\s+0\.4 ms\s+100\.9 ms\s+0\.4 ms\s+\+100\.5 ms \(100 ± 30 ms\)\s+0 % \(0 %\)\s+4\s+ok/);
    assert.match(text, /VERIFY_EFFECT: ok \(3 faulted dependencies within tolerance\)/);
  });
  test('too little delay, a slowed exclusion, loss far off, still slow after the revert: each is a reason', () => {
    const after = { ...base, '192.0.2.13:8080': ok(same(5, 60)), '192.0.2.11': ok(same(5, 10.5)) };
    const r = effectReport({ plan: p, selection: sel, baseline: base, during: during(40, 60, 0), after });
    assert.equal(r.verdict.ok, false);
    assert.deepEqual(r.verdict.reasons, [
      '192.0.2.11:9090: untouched (port exclusion) but slowed by 59.6 ms (limit < 50 ms)',
      '192.0.2.13:8080: added 39.6 ms, expected 100 ± 30 ms',
      '192.0.2.13:8080: still slowed by 59.6 ms after the revert (limit < 50 ms)',
      '192.0.2.11: still slowed by 10.3 ms after the revert (limit < 10 ms)',
      '192.0.2.12: lost 0 % of the samples, expected 30 ± 25.62 %',
    ]);
  });
  test('after the revert, a TCP connect is judged by its half-delay bound (worker noise), a ping by 10 ms', () => {
    // Lab scenario 32 under emulation: the excluded port's connects went 13.84 → 26.49 → 24.77 ms, all untouched.
    const noisy = { ...base, '192.0.2.11:9090': ok(same(5, 11.3)), '192.0.2.13:8080': ok(same(5, 25)) };
    const r = effectReport({ plan: p, selection: sel, baseline: base, during: during(100.9, 26.5, 6), after: noisy });
    assert.deepEqual(r.verdict, { ok: true, verified: 3, reasons: [] });
    assert.deepEqual(r.dependencies.map((d) => `${d.id} ${d.afterToleranceMs}`), ['192.0.2.11:9090 50', '192.0.2.13:8080 50', '192.0.2.11 10', '192.0.2.12 10']);
    // A fault left in place is still caught: the whole delay on the TCP destination, and an exclusion's address
    // pinged at +10 ms fails where its TCP port would not.
    const left = effectReport({ plan: p, selection: sel, baseline: base, during: during(100.9, 0.5, 6), after: { ...base, '192.0.2.13:8080': ok(same(5, 100.4)), '192.0.2.11': ok(same(5, 10.2)) } });
    assert.deepEqual(left.verdict.reasons, [
      '192.0.2.13:8080: still slowed by 100 ms after the revert (limit < 50 ms)',
      '192.0.2.11: still slowed by 10 ms after the revert (limit < 10 ms)',
    ]);
  });
  test('a TCP sample that waited for a retransmission counts as lost, not as latency', () => {
    const r = effectReport({ plan: p, selection: sel, baseline: base, during: { ...during(100, 0.4, 6), '192.0.2.13:8080': ok([100.4, 100.5, 1101, 100.6, null]) } });
    const b = r.dependencies.find((d) => d.id === '192.0.2.13:8080');
    assert.equal(b?.during?.medianMs, 100.5);
    assert.equal(b?.lossPct, 40);
  });
  test('nothing measurable (ping not permitted): not verified, and VERIFY_EFFECT fails rather than passing blind', () => {
    const q = plan(spec({ DESTINATION_IPS: '192.0.2.11' }));
    const fail: WorkerResult = { samples: same(5, null), errors: {}, error: 'ping: socket: Operation not permitted' };
    const r = effectReport({ plan: q, selection: probeDestinations(q), baseline: { '192.0.2.11': fail }, during: { '192.0.2.11': fail } });
    assert.equal(r.dependencies[0]?.check, 'not verified');
    assert.equal(r.verdict.ok, false);
    assert.match(r.verdict.reasons.join(), /no faulted dependency could be verified/);
    assert.match(formatEffect(r, false), /note: 192\.0\.2\.11 baseline: ping: socket: Operation not permitted/);
  });
});

describe('probe runner pieces', () => {
  test('the worker measures TCP connects (and refusals) for real, within its budget', async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const started = Date.now();
    const r = await runProbe({ budgetMs: 2000, destinations: [
      { id: 'up', kind: 'tcp', address: '127.0.0.1', port, samples: 3, gapMs: 20 },
      { id: 'closed', kind: 'tcp', address: '127.0.0.1', port: 1, samples: 2, gapMs: 20 },
    ] });
    server.close();
    assert.ok(Date.now() - started < 2500);
    assert.equal(r['up']?.samples.filter((x) => typeof x === 'number').length, 3);
    assert.deepEqual(r['closed']?.errors, { ECONNREFUSED: 2 });
  });
  test('ICMP only: `nsenter … -- ping` per destination, in parallel, no node worker; read like the worker reads its pings', async () => {
    const calls: { file: string; args: readonly string[] }[] = [];
    const out = (seqs: number[], sent: number): string => `${seqs.map((q) => `64 bytes from x: icmp_seq=${q} ttl=64 time=10${q}.5 ms`).join('\n')}\n--- x ping statistics ---\n${sent} packets transmitted, ${seqs.length} received\n`;
    const exec: Exec = (file, args) => {
      calls.push({ file, args });
      const address = args.at(-1);
      if (address === '192.0.2.11') return Promise.resolve({ exitCode: 1, stdout: out([1, 3], 3), stderr: '' });
      if (address === '192.0.2.12') return Promise.resolve({ exitCode: 127, stdout: '', stderr: 'nsenter: failed to execute ping: No such file or directory\n' });
      return Promise.resolve({ exitCode: 0, stdout: out([1, 2, 3], 3), stderr: '' });
    };
    const dest = (id: string, address: string): WorkerDestination => ({ id, kind: 'icmp', address, samples: 3, gapMs: 200 });
    const r = await execProber(exec).probe({ kind: 'pid', pid: 4242 }, { budgetMs: 4000, destinations: [dest('b', '192.0.2.11'), dest('c', '192.0.2.12'), dest('d', '192.0.2.13')] });
    assert.deepEqual(calls.map((c) => [c.file, ...c.args].join(' ')), [
      'nsenter -t 4242 -n -- ping -n -c 3 -i 0.2 -W 2 -w 4 192.0.2.11',
      'nsenter -t 4242 -n -- ping -n -c 3 -i 0.2 -W 2 -w 4 192.0.2.12',
      'nsenter -t 4242 -n -- ping -n -c 3 -i 0.2 -W 2 -w 4 192.0.2.13',
    ]);
    assert.deepEqual(r['b'], { samples: [101.5, null, 103.5], errors: {} }, 'an unanswered echo is a lost sample (ping exits 1)');
    assert.deepEqual(r['c'], { samples: [null, null, null], errors: {}, error: 'ping: nsenter: failed to execute ping: No such file or directory' });
    assert.deepEqual(r['d']?.samples, [101.5, 102.5, 103.5]);
  });
  test('a TCP destination among them: one worker (`netchaos __effect-probe`) for the phase, the request on its stdin', async () => {
    const calls: { args: readonly string[]; input: unknown }[] = [];
    const exec: Exec = (_file, args, o) => {
      calls.push({ args, input: o?.input });
      return Promise.resolve({ exitCode: 0, stdout: '{"b":{"samples":[1],"errors":{}},"p":{"samples":[2],"errors":{}}}\n', stderr: '' });
    };
    const request = { budgetMs: 4000, destinations: [{ id: 'b', kind: 'icmp', address: '192.0.2.11', samples: 1, gapMs: 200 }, { id: 'p', kind: 'tcp', address: '192.0.2.11', port: 8080, samples: 1, gapMs: 200 }] } as const;
    const r = await execProber(exec).probe({ kind: 'pid', pid: 4242 }, request);
    assert.equal(calls.length, 1);
    assert.ok(calls[0]?.args.includes('__effect-probe'));
    assert.equal(calls[0]?.input, JSON.stringify(request));
    assert.deepEqual(r['p']?.samples, [2]);
  });
  test('worker output and tc counters are validated, not trusted', () => {
    assert.deepEqual(parseWorkerOutput('{"a":{"samples":[1.5,null,"x"],"errors":{"E":1}},"b":5}'), { a: { samples: [1.5, null, null], errors: { E: 1 } } });
    assert.throws(() => parseWorkerOutput('nope'), /not JSON/);
    const c = parseCounters('[{"kind":"netem","handle":"4e44:","packets":6,"bytes":588,"drops":1}]\n', 'Cannot find device "nc-ifb-eth0"\nCommand failed -:2\n', ['eth0', 'nc-ifb-eth0']);
    assert.deepEqual(c, [{ device: 'eth0', handle: '4e44:', kind: 'netem', packets: 6, bytes: 588, drops: 1 }]);
  });
});

/** A prober that answers like a network where the configured fault works (or not), and records its calls. */
class FakeProber implements EffectProber {
  readonly calls: string[] = [];
  phase = 0;
  constructor(private readonly addedMs: number, private readonly ns: FakeNetns) {}
  probe = async (_t: NetnsRef, req: WorkerRequest): Promise<Record<string, WorkerResult>> => {
    await Promise.resolve();
    const live = this.ns.root.handle === '4e43:';
    this.calls.push(live ? 'probe:during' : 'probe:idle');
    return Object.fromEntries(req.destinations.map((t) => [t.id, ok(same(t.samples, 0.4 + (live ? this.addedMs : 0)))]));
  };
  counters = async (): Promise<{ device: string; handle: string; kind: string; packets: number; bytes: number; drops: number }[]> => {
    await Promise.resolve();
    this.calls.push('counters');
    return [{ device: 'eth0', handle: '4e44:', kind: 'netem', packets: 10, bytes: 740, drops: 0 }];
  };
}

describe('the lifecycle measures before, during and after', () => {
  test('baseline before the apply, during after it, counters before the revert, after once reverted', async () => {
    const ns = new FakeNetns();
    const f = fakeDeps(ns);
    const prober = new FakeProber(100, ns);
    const order: string[] = [];
    ns.afterCall = (c) => { if (c.op === 'apply' || c.op === 'revertOnce') order.push(c.op === 'apply' ? 'apply' : 'revert'); };
    const origProbe = prober.probe;
    prober.probe = async (t, r) => { const x = await origProbe(t, r); order.push(prober.calls.at(-1) ?? '?'); return x; };
    const s = spec({ DESTINATION_IPS: '192.0.2.11' });
    const outcome = await inject({ ...f.deps, prober }, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: '0123456789abcdef' });
    assert.deepEqual(order, ['probe:idle', 'apply', 'probe:during', 'revert', 'probe:idle']);
    assert.ok(prober.calls.indexOf('counters') < prober.calls.lastIndexOf('probe:idle'));
    assert.equal(outcome.effect?.dependencies[0]?.addedMs, 100);
    assert.equal(outcome.effect?.verdict.ok, true);
  });
  test('SIGTERM during the chaos: the probe still running is killed, the revert does not wait for it', async () => {
    const ns = new FakeNetns();
    const f = fakeDeps(ns);
    const seen: string[] = [];
    const prober: EffectProber = {
      probe: (_t, req, signal) => new Promise((resolve) => {
        if (ns.root.handle !== '4e43:') { resolve(Object.fromEntries(req.destinations.map((t) => [t.id, ok(same(t.samples, 0.4))]))); return; }
        signal?.addEventListener('abort', () => { seen.push(`aborted, root ${ns.root.handle}`); resolve({}); });
      }),
      counters: async () => { await Promise.resolve(); seen.push('counters'); return []; },
    };
    f.clock.onSleep = (t) => { if (t - 1_000_000 >= 3000) f.signals.send('SIGTERM'); };
    const s = spec({ DESTINATION_IPS: '192.0.2.11' });
    const outcome = await inject({ ...f.deps, prober }, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: '0123456789abcdef' });
    assert.equal(outcome.status, 'stopped');
    assert.deepEqual(seen, ['aborted, root 4e43:'], 'killed before the revert; no counters, no after-probe');
    assert.equal(ns.root.handle, '0:');
    assert.match(outcome.effect?.notes.join() ?? '', /stopped by a signal/);
  });
  test('MEASURE_EFFECT=false: no probe at all', async () => {
    const ns = new FakeNetns();
    const f = fakeDeps(ns);
    const prober = new FakeProber(100, ns);
    const s = spec({ DESTINATION_IPS: '192.0.2.11', MEASURE_EFFECT: 'false' });
    const outcome = await inject({ ...f.deps, prober }, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: '0123456789abcdef' });
    assert.deepEqual(prober.calls, []);
    assert.equal(outcome.effect, undefined);
  });
});

describe('netchaos inject prints the table; VERIFY_EFFECT=true exits 6 when the effect is off', () => {
  async function cli(env: Record<string, string>, addedMs: number) {
    const ns = new FakeNetns();
    const f = fakeDeps(ns);
    let stdout = '';
    const code = await cliRun(['inject', '--pid', '4242', '--duration', '3'], { stdout: (t) => { stdout += t; }, stderr: () => {}, env }, () => ({ ...f.host, prober: new FakeProber(addedMs, ns) }));
    return { code, stdout, ns };
  }
  test('within tolerance: exit 0 and the table', async () => {
    const r = await cli({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100', VERIFY_EFFECT: 'true' }, 98);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Effect \(measured inside the target's namespace; direction egress\)/);
    assert.match(r.stdout, /192\.0\.2\.11\s+icmp\s+0\.4 ms\s+98\.4 ms\s+0\.4 ms\s+\+98 ms \(100 ± 30 ms\)/);
    assert.match(r.stdout, /VERIFY_EFFECT: ok/);
  });
  test('far off: exit 6 after a clean revert', async () => {
    const r = await cli({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100', VERIFY_EFFECT: 'true' }, 20);
    assert.equal(r.code, 6);
    assert.match(r.stdout, /VERIFY_EFFECT: FAILED: 192\.0\.2\.11: added 20 ms, expected 100 ± 30 ms/);
    assert.equal(r.ns.root.handle, '0:', 'reverted');
  });
  test('without VERIFY_EFFECT a miss is reported, not fatal', async () => {
    const r = await cli({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100' }, 20);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /checks: 192\.0\.2\.11: added 20 ms/);
  });
});
