import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Spec } from '../../src/model/spec.ts';
import type { NetnsRef } from '../../src/model/netns.ts';
import { RefusedError, RevertError, RuntimeError, TargetGoneError, exitCodeOf } from '../../src/model/errors.ts';
import { plan } from '../../src/tc/plan.ts';
import { markerLines } from '../../src/tc/marker.ts';
import { inject } from '../../src/lifecycle/inject.ts';
import { type Env, specOf } from '../support/spec.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { fakeDeps } from '../support/fake-ports.ts';

const spec = (env: Env = {}): Spec => specOf({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '30', ...env });
const netns: NetnsRef = { kind: 'pid', pid: 4242 };
const RUN_ID = '0123456789abcdef';

async function run(ns: FakeNetns, s: Spec = spec(), setup: (f: ReturnType<typeof fakeDeps>) => void = () => {}) {
  const f = fakeDeps(ns);
  setup(f);
  const events: string[] = [];
  let outcome: Awaited<ReturnType<typeof inject>> | undefined;
  let error: unknown;
  try {
    outcome = await inject(f.deps, { spec: s, plan: plan(s), netns, runId: RUN_ID, onEvent: (e) => events.push(e.kind) });
  } catch (e) {
    error = e;
  }
  return { ...f, events, outcome, error };
}

describe('inject → wait → revert', () => {
  test('normal end: one batch (its first line is the root check), one revert; the root is the default again', async () => {
    const ns = new FakeNetns();
    const r = await run(ns);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.outcome, { status: 'completed', reinjected: 0 });
    assert.deepEqual(ns.tcOps, ['apply', 'revert']);
    assert.deepEqual(ns.root, { kind: 'noqueue', handle: '0:' });
    assert.deepEqual(r.events, ['deadman', 'injected', 'progress', 'progress', 'reverted', 'deadman']);
    assert.equal(r.clock.t - 1_000_000, 30_000, 'waited the whole duration');
    const apply = ns.calls[0]!;
    assert.deepEqual(apply.netns, netns, 'applied in the target\'s namespace');
    const owner = { runId: RUN_ID, deadlineS: 1000 + 30 + 30 };
    const [root, ...rest] = plan(spec()).apply;
    assert.deepEqual(apply.lines, [root, ...markerLines('eth0', owner), ...rest], 'the batch is the plan with the owner marker right after the root: the tree is marked from its second line on');
  });

  test('a namespace path is worked on as given', async () => {
    const ns = new FakeNetns();
    const f = fakeDeps(ns);
    const s = spec();
    await inject(f.deps, { spec: s, plan: plan(s), netns: { kind: 'netns', path: '/var/run/netns/app' }, runId: RUN_ID });
    assert.deepEqual(ns.calls.map((c) => c.netns), [1, 2].map(() => ({ kind: 'netns', path: '/var/run/netns/app' })));
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} during the wait: revert at once, outcome stopped (exit ${signal === 'SIGINT' ? 130 : 143})`, async () => {
      const ns = new FakeNetns();
      const r = await run(ns, spec(), (f) => { f.clock.onSleep = (t) => { if (t - 1_000_000 >= 5000) f.signals.send(signal); }; });
      assert.deepEqual(r.outcome, { status: 'stopped', signal, injected: true });
      assert.deepEqual(ns.tcOps, ['apply', 'revert']);
      assert.ok(r.clock.t - 1_000_000 < 6000, 'did not wait out the duration');
      assert.deepEqual(ns.root.handle, '0:');
    });
  }

  test('SIGINT during apply: the batch finishes, then the revert runs', async () => {
    const ns = new FakeNetns();
    const r = await run(ns, spec(), (f) => { ns.afterCall = (c) => { if (c.op === 'apply') f.signals.send('SIGINT'); }; });
    assert.deepEqual(r.outcome, { status: 'stopped', signal: 'SIGINT', injected: true });
    assert.deepEqual(ns.tcOps, ['apply', 'revert']);
  });

  test('a second signal during the revert does not interrupt it', async () => {
    const ns = new FakeNetns();
    ns.revertFailures = 1;
    const r = await run(ns, spec(), (f) => {
      f.clock.onSleep = (t) => { if (t - 1_000_000 === 1000) f.signals.send('SIGTERM'); };
      ns.afterCall = (c) => { if (c.op === 'revertOnce') f.signals.send('SIGINT'); };
    });
    assert.deepEqual(r.outcome, { status: 'stopped', signal: 'SIGTERM', injected: true });
    assert.deepEqual(ns.tcOps, ['apply', 'revert', 'revert']);
    assert.equal(ns.root.handle, '0:');
  });

  test('SIGTERM during the ramp time: nothing is applied', async () => {
    const ns = new FakeNetns();
    const r = await run(ns, spec({ RAMP_TIME: '20' }), (f) => { f.clock.onSleep = () => { f.signals.send('SIGTERM'); }; });
    assert.deepEqual(r.outcome, { status: 'stopped', signal: 'SIGTERM', injected: false });
    assert.deepEqual(ns.tcOps, []);
  });

  test('ramp time is waited before injecting and after reverting', async () => {
    const ns = new FakeNetns();
    const r = await run(ns, spec({ RAMP_TIME: '20' }));
    assert.deepEqual(r.events, ['ramp', 'progress', 'deadman', 'injected', 'progress', 'progress', 'reverted', 'deadman', 'ramp', 'progress']);
    assert.ok(r.lines.some((l) => l.msg === 'ramp time, 10s remaining'));
    assert.equal(r.clock.t - 1_000_000, 70_000);
  });

  test('the batch fails midway: what it created is removed, then the error (exit 1)', async () => {
    const ns = new FakeNetns();
    ns.batchFailsAt = 4;
    const r = await run(ns);
    assert.ok(r.error instanceof RuntimeError);
    assert.equal(exitCodeOf(r.error), 1);
    assert.match(r.error.message, /tc rejected line 4 of the batch .*netem.*Specified qdisc kind is unknown.*was removed/);
    assert.deepEqual(ns.tcOps, ['apply', 'revert'], 'the marker was in place: one guarded revert');
    assert.equal(ns.calls.at(-1)?.runId, RUN_ID, 'the revert is guarded by this run\'s marker');
    assert.equal(ns.root.handle, '0:');
  });

  test('the marker line itself fails (no u32 in the kernel): the unmarked root this batch created is removed too', async () => {
    const ns = new FakeNetns();
    ns.batchFailsAt = 2;
    const r = await run(ns);
    assert.ok(r.error instanceof RuntimeError);
    assert.deepEqual(ns.tcOps, ['apply', 'revert', 'marker', 'revert'], 'guarded revert (nothing), marker read (none), then the root by handle');
    assert.equal(ns.root.handle, '0:');
  });

  test('two runs at once: the second run\'s batch, refused at its first line, removes nothing of the first run\'s tree (issue 12, point 6)', async () => {
    const ns = new FakeNetns();
    const first = { runId: 'fedcba9876543210', deadlineS: 5000 };
    // The first run's tree went in while the second run started (the second reads no root before its batch).
    ns.root = { kind: 'prio', handle: '4e43:' };
    ns.marker = first;
    const r = await run(ns);
    assert.ok(r.error instanceof RefusedError, String(r.error));
    assert.equal(exitCodeOf(r.error), 5);
    assert.match(r.error.message, /already on eth0 .*belongs to run fedcba9876543210, active until/);
    assert.deepEqual(ns.calls.filter((c) => c.op === 'revertOnce'), [], 'nothing deleted');
    assert.deepEqual(ns.root, { kind: 'prio', handle: '4e43:' }, 'the first run\'s tree is still there');
    assert.deepEqual(ns.marker, first, 'with its marker');
  });

  test('two runs at once, the root read before the batch (DIRECTION=both): the second run\'s failed batch removes nothing of the first run\'s tree', async () => {
    const ns = new FakeNetns();
    const first = { runId: 'fedcba9876543210', deadlineS: 5000 };
    // DIRECTION=both reads the root before the apply (the batch starts on the ifb); the first run applies in between.
    ns.afterCall = (c) => {
      if (c.op === 'qdiscs' && ns.marker === undefined) {
        ns.root = { kind: 'prio', handle: '4e43:' };
        ns.marker = first;
      }
    };
    const r = await run(ns, spec({ DIRECTION: 'both' }));
    assert.ok(r.error instanceof RuntimeError, String(r.error));
    assert.match(r.error.message, /tc rejected line \d+ of the batch/);
    assert.deepEqual(ns.root, { kind: 'prio', handle: '4e43:' }, 'the first run\'s tree is still there');
    assert.deepEqual(ns.marker, first, 'with its marker');
  });

  test('a revert that fails is retried', async () => {
    const ns = new FakeNetns();
    ns.revertFailures = 2;
    const r = await run(ns);
    assert.deepEqual(r.outcome, { status: 'completed', reinjected: 0 });
    assert.deepEqual(ns.tcOps, ['apply', 'revert', 'revert', 'revert']);
    assert.deepEqual(r.events.slice(-4), ['revert-retry', 'revert-retry', 'reverted', 'deadman']);
  });

  test('a revert that keeps failing is loud: exit 3, what is left, and the command to remove it', async () => {
    const ns = new FakeNetns();
    ns.revertFailures = 99;
    const r = await run(ns);
    assert.ok(r.error instanceof RevertError);
    assert.equal(exitCodeOf(r.error), 3);
    assert.equal(r.error.leftover, 'root qdisc prio 4e43: on eth0 in pid 4242');
    assert.match(r.error.command, /^netchaos revert --pid 4242 --interface eth0 .*nsenter -t 4242 -n -- tc qdisc del dev eth0 root handle 4e43:/);
    const failed = r.lines.find((l) => l.event === 'revert-failed');
    assert.equal(failed?.level, 'error');
    assert.match(failed?.msg ?? '', /REVERT FAILED: root qdisc prio 4e43: on eth0 in pid 4242 is left behind\. Remove it with: netchaos revert/);
  });

  test('the target namespace disappears mid-run: exit 4, no hang, no revert attempt into nothing', async () => {
    const ns = new FakeNetns();
    const r = await run(ns, spec(), (f) => { f.clock.onSleep = (t) => { if (t - 1_000_000 >= 3000) ns.exists = false; }; });
    assert.ok(r.error instanceof TargetGoneError);
    assert.equal(exitCodeOf(r.error), 4);
    assert.deepEqual(ns.tcOps, ['apply']);
    assert.ok(r.clock.t - 1_000_000 <= 4000);
  });
});

describe('preflight refuses before any change', () => {
  test('our tree is already there (a second run must not stack): exit 5, the first is left intact', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'prio', handle: '4e43:' };
    const r = await run(ns);
    assert.ok(r.error instanceof RefusedError);
    assert.equal(exitCodeOf(r.error), 5);
    assert.match(r.error.message, /already on eth0 .*netchaos revert --pid 4242 --interface eth0/);
    assert.deepEqual(ns.tcOps, ['apply', 'show', 'show', 'marker', 'marker'], 'the batch refused at its first line (nothing changed), then the root, the look for expired trees (every qdisc, the marker: none, left alone), then its owner marker for the message: nothing else');
    assert.deepEqual(ns.calls.filter((c) => c.op === 'revertOnce'), [], 'nothing deleted');
    assert.equal(ns.root.handle, '4e43:');
  });
  test('a foreign root qdisc (e.g. a CNI tbf) is refused and left untouched', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'tbf', handle: '1:' };
    const r = await run(ns);
    assert.ok(r.error instanceof RefusedError);
    assert.match(r.error.message, /root qdisc of eth0 in pid 4242 is tbf 1:, not a kernel default.*FORCE=true/);
    assert.deepEqual(ns.tcOps, ['apply', 'show'], 'the batch refused at its first line, then the root read to say why');
    assert.deepEqual(ns.root, { kind: 'tbf', handle: '1:' });
  });
  test('FORCE replaces a foreign root qdisc', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'tbf', handle: '1:' };
    const r = await run(ns, spec({ FORCE: 'true' }), () => { ns.root = { kind: 'tbf', handle: '1:' }; });
    assert.equal(r.error, undefined);
    assert.equal(ns.calls[1]?.lines?.[0], 'qdisc replace dev eth0 root handle 4e43: prio bands 4');
  });
  test('kernel defaults are accepted whatever their kind (handle 0:)', async () => {
    for (const kind of ['noqueue', 'pfifo_fast', 'fq_codel', 'mq']) {
      const ns = new FakeNetns();
      ns.root = { kind, handle: '0:' };
      const r = await run(ns);
      assert.equal(r.error, undefined, kind);
    }
  });
  test('a missing interface: an error before any change (the adapter names the interfaces there are: netns.test.ts)', async () => {
    const ns = new FakeNetns();
    const r = await run(ns, spec({ NETWORK_INTERFACE: 'net1' }));
    assert.ok(r.error instanceof RuntimeError);
    assert.match(r.error.message, /interface "net1" does not exist/);
    assert.deepEqual(ns.tcOps, ['apply', 'show'], 'the batch stopped at its first line, then the read that names the interfaces');
  });
  test('a target that does not exist: actionable message, exit 1, nothing run', async () => {
    const ns = new FakeNetns();
    ns.exists = false;
    const r = await run(ns);
    assert.ok(r.error instanceof RuntimeError);
    assert.match(r.error.message, /no process 4242 .*hostPID/);
    assert.deepEqual(ns.calls, []);
  });
});
