/**
 * Issue 12, what was left: every marker format netchaos ever wrote is swept once expired (recorded tc outputs
 * through the real tc adapter), the expired leftover of a killed run removed by the next run before it injects,
 * the systemd dead-man's ingress side, and the namespace identity re-checked right before the apply and before
 * every revert.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Deps } from '../../src/ports.ts';
import type { Spec } from '../../src/model/spec.ts';
import { RefusedError, TargetGoneError, exitCodeOf } from '../../src/model/errors.ts';
import { inject } from '../../src/lifecycle/inject.ts';
import type { LifecycleEvent } from '../../src/lifecycle/events.ts';
import { type Env, specOf } from '../support/spec.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { markerGuardLine, markerKeyTexts, markerNode, parseMarker } from '../../src/tc/marker.ts';
import { systemdArmArgs, systemdCommands } from '../../src/lifecycle/deadman.ts';
import { legacyIfbName, plan } from '../../src/tc/plan.ts';
import { nsenterTc } from '../../src/netns/tc.ts';
import { sweep } from '../../src/lifecycle/sweep.ts';
import { FakeNamespace } from '../support/fake-namespace.ts';
import { FakeClock, FakeProcesses, fakeDeps } from '../support/fake-ports.ts';

/** What `tc filter show dev eth0 parent 4e43: prio 9` printed for a tree of the first format (iproute2 6.1, lab VM). */
const FIRST_FORMAT = ['filter protocol [20035] u32 chain 0 ', 'filter protocol [20035] u32 chain 0 fh 7ff: ht divisor 1 ',
  'filter protocol [20035] u32 chain 0 fh 7ff::1 order 1 key ht 7ff bkt 0 not_in_hw ',
  '  match 4e430001/ffffffff at 0', '  match 00001388/ffffffff at 4', '  match 01234567/ffffffff at 8', '  match 89abcdef/ffffffff at 12',
  'filter protocol [20035] u32 chain 0 fh 801: ht divisor 1 ', ''].join('\n');
const RUN_ID = '0123456789abcdef';

describe('marker formats', () => {
  test('the first format (node 7ff::1) reads with its node, and the guard asks for the node it was read at', () => {
    const owner = parseMarker(FIRST_FORMAT);
    assert.deepEqual(owner, { runId: RUN_ID, deadlineS: 5000, node: '7ff::1' });
    assert.notEqual(markerNode(RUN_ID), '7ff::1', 'this run id\'s node in the current format is another one');
    assert.equal(markerGuardLine('eth0', RUN_ID, owner?.node), 'filter get dev eth0 parent 4e43: protocol 0x4e43 prio 9 handle 7ff::1 u32');
    assert.equal(markerGuardLine('eth0', RUN_ID), `filter get dev eth0 parent 4e43: protocol 0x4e43 prio 9 handle ${markerNode(RUN_ID)} u32`);
    assert.throws(() => markerGuardLine('eth0', RUN_ID, '7ff::1 u32; qdisc del'), /unreachable/);
  });
  test('the ifb names of the first format: nc-ifb- and the interface cut to 15 characters', () => {
    assert.equal(legacyIfbName('eth0'), 'nc-ifb-eth0');
    assert.equal(legacyIfbName('enp0s31f6'), 'nc-ifb-enp0s31f');
    assert.equal(legacyIfbName('enp0s31f6.100'), 'nc-ifb-enp0s31f', 'two interfaces shared one name: why the format changed');
  });
});

describe('sweep of a first-format tree (the real tc adapter on recorded tc output)', () => {
  /** A namespace holding a first-format tree (marker node 7ff::1) with this deadline, swept at t = 5010 s. */
  async function sweepAt(deadlineS: number | undefined) {
    const ns = new FakeNamespace();
    ns.root = { kind: 'prio', handle: '4e43:' };
    if (deadlineS !== undefined) {
      ns.markerNodeId = '1';
      ns.marker = ['4e430001', deadlineS.toString(16).padStart(8, '0'), '01234567', '89abcdef'];
    }
    const clock = new FakeClock();
    clock.t = 5010_000;
    const f = fakeDeps(undefined, { clock, nsId: (p) => (p === '/var/run/netns/old' ? 'net:[9]' : undefined), list: (p) => (p === '/var/run/netns' ? ['old'] : []) });
    const deps: Deps = { ...f.deps, tc: nsenterTc(ns.exec) };
    const report = await sweep(deps);
    return { ns, report };
  }
  test('expired: removed, by a delete guarded by its own node 7ff::1 in the same batch', async () => {
    const { ns, report } = await sweepAt(5000);
    assert.deepEqual(report.trees.map((t) => [t.interface, t.status]), [['eth0', 'removed']], JSON.stringify(report.trees));
    assert.equal(ns.root.handle, '0:', 'the tree is gone');
    const guarded = ns.calls.find((c) => (c.input ?? '').startsWith('filter get '));
    assert.match(guarded?.input ?? '', /^filter get dev eth0 parent 4e43: protocol 0x4e43 prio 9 handle 7ff::1 u32\nqdisc del dev eth0 root handle 4e43:\n/);
  });
  test('live (deadline in the future): left alone', async () => {
    const { ns, report } = await sweepAt(6000);
    assert.deepEqual(report.trees.map((t) => t.status), ['live']);
    assert.equal(ns.root.handle, '4e43:');
  });
  test('without a marker (netchaos before the marker, or not ours): left alone', async () => {
    const { ns, report } = await sweepAt(undefined);
    assert.deepEqual(report.trees.map((t) => t.status), ['unmarked']);
    assert.equal(ns.root.handle, '4e43:');
  });
});

describe('the next run removes a killed run\'s expired tree before it injects', () => {
  const OTHER = 'fedcba9876543210';
  const spec = (env: Env = {}): Spec => specOf({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '30', ...env });
  /** One run (run id RUN_ID) at t = 1000 s against `ns`; every event, whole. */
  async function run(ns: FakeNetns, s: Spec = spec()) {
    const f = fakeDeps(ns);
    const events: LifecycleEvent[] = [];
    let outcome: Awaited<ReturnType<typeof inject>> | undefined;
    let error: unknown;
    try {
      outcome = await inject(f.deps, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: RUN_ID, onEvent: (e) => events.push(e) });
    } catch (e) {
      error = e;
    }
    return { events, outcome, error, lines: f.lines };
  }

  test('egress: the expired tree of another run is removed (guarded by that run\'s marker), said so, then this run injects and reverts', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'prio', handle: '4e43:' };
    ns.marker = { runId: OTHER, deadlineS: 990 };
    const r = await run(ns);
    assert.equal(r.error, undefined, String(r.error));
    assert.deepEqual(r.outcome, { status: 'completed', reinjected: 0 });
    const leftover = r.events.find((e) => e.kind === 'leftover');
    assert.deepEqual(leftover && { ...leftover, detail: undefined }, { kind: 'leftover', action: 'removed', interface: 'eth0', runId: OTHER, detail: undefined });
    const kinds = r.events.map((e) => e.kind);
    assert.ok(kinds.indexOf('leftover') < kinds.indexOf('injected'), 'removed before this run injected');
    assert.equal(ns.calls.filter((c) => c.op === 'apply').length, 2, 'the first batch refused at its first line (the leftover\'s root), the second after the removal');
    assert.deepEqual(ns.calls.filter((c) => c.op === 'revertOnce').map((c) => c.runId), [OTHER, RUN_ID], 'the leftover\'s delete carries its own run\'s guard');
    assert.ok(r.lines.some((l) => /removed the expired netchaos tree of run fedcba9876543210 on eth0 before injecting/.test(l.msg)), JSON.stringify(r.lines));
    assert.equal(ns.root.handle, '0:');
  });
  test('a live tree of another run is still refused (exit 5) and untouched; no leftover event', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'prio', handle: '4e43:' };
    ns.marker = { runId: OTHER, deadlineS: 1100 };
    const r = await run(ns);
    assert.ok(r.error instanceof RefusedError);
    assert.equal(exitCodeOf(r.error), 5);
    assert.match(r.error.message, /belongs to run fedcba9876543210, active until/);
    assert.deepEqual(r.events.filter((e) => e.kind === 'leftover'), []);
    assert.deepEqual(ns.marker, { runId: OTHER, deadlineS: 1100 });
    assert.deepEqual(ns.root, { kind: 'prio', handle: '4e43:' });
    assert.equal(ns.calls.filter((c) => c.op === 'revertOnce').length, 0, 'nothing deleted (the one batch was refused at its first line)');
  });
  test('a tree without our marker is still refused and untouched', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'prio', handle: '4e43:' };
    const r = await run(ns);
    assert.ok(r.error instanceof RefusedError);
    assert.equal(ns.root.handle, '4e43:');
    assert.equal(ns.marker, undefined);
    assert.equal(ns.calls.filter((c) => c.op === 'revertOnce').length, 0);
  });
  test('DIRECTION=ingress: the expired leftover on the ifb goes with its redirect and the ifb, then this run injects', async () => {
    const ns = new FakeNetns();
    ns.ifb = true;
    ns.ifbMarker = { runId: OTHER, deadlineS: 990 };
    ns.ingress = 'ours';
    const r = await run(ns, spec({ DIRECTION: 'ingress' }));
    assert.equal(r.error, undefined, String(r.error));
    assert.deepEqual(r.outcome, { status: 'completed', reinjected: 0 });
    const leftover = r.events.find((e) => e.kind === 'leftover');
    assert.equal(leftover?.kind === 'leftover' ? `${leftover.action} ${leftover.interface} ${leftover.runId ?? ''}` : undefined, `removed nc-ifb-eth0 ${OTHER}`);
    assert.match(leftover?.kind === 'leftover' ? leftover.detail : '', /also removed ingress qdisc on eth0 and ifb device nc-ifb-eth0/);
    assert.equal(ns.ifb, false, 'this run\'s own ifb went at its revert');
    assert.equal(ns.ingress, 'none');
  });
  test('a leftover that cannot be removed: said so, and the run is refused as before', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'prio', handle: '4e43:' };
    ns.marker = { runId: OTHER, deadlineS: 990 };
    ns.revertFailures = 5;
    const r = await run(ns);
    assert.ok(r.error instanceof RefusedError);
    assert.match(r.error.message, /whose deadline passed/);
    assert.deepEqual(r.events.filter((e) => e.kind === 'leftover').map((e) => e.kind === 'leftover' && e.action), ['failed']);
    assert.equal(ns.calls.filter((c) => c.op === 'apply').length, 1, 'the one batch, refused at its first line');
    assert.deepEqual([ns.root, ns.marker], [{ kind: 'prio', handle: '4e43:' }, { runId: OTHER, deadlineS: 990 }]);
  });
});

describe('the dead-men and DIRECTION=ingress|both', () => {
  const OTHER = 'fedcba9876543210';
  test('the process dead-man (sweep of one run, one interface) removes an ingress-only tree: it sits on the interface\'s ifb', async () => {
    const ns = new FakeNetns();
    ns.ifb = true;
    ns.ifbMarker = { runId: OTHER, deadlineS: 990 };
    ns.ingress = 'ours';
    const f = fakeDeps(ns, { nsId: (p) => (p === '/proc/4242/ns/net' ? 'net:[5]' : undefined) });
    const report = await sweep(f.deps, { interface: 'eth0', only: { nsId: 'net:[5]', runId: OTHER, hint: '/proc/4242/ns/net' } });
    assert.deepEqual(report.trees.map((t) => [t.interface, t.status]), [['nc-ifb-eth0', 'removed']], JSON.stringify(report));
    assert.equal(ns.ifb, false);
    assert.equal(ns.ingress, 'none');
  });
  const request = { runId: RUN_ID, generation: 1, deadlineS: 2000, nsId: 'net:[4026532001]', path: '/proc/4242/ns/net', interface: 'eth0' };
  const text = (argv: readonly string[]): string => argv.join(' ');
  const MARKER = `/run/netchaos-revert-${RUN_ID}-1.marker`;
  test('systemd, DIRECTION=both: after the four marker checks on eth0, its root, our redirect, the ifb, then the ingress qdisc only when no other filter is on it', () => {
    const c = systemdCommands({ ...request, direction: 'both' });
    assert.deepEqual(c.pre.map(text), [
      'nsenter --net=/proc/4242/ns/net -- tc filter show dev eth0 parent 4e43: prio 9',
      ...markerKeyTexts({ runId: RUN_ID, deadlineS: 2000 }).map((k) => `grep -qF ${k} ${MARKER}`),
      'nsenter --net=/proc/4242/ns/net -- tc qdisc del dev eth0 root handle 4e43:',
      'nsenter --net=/proc/4242/ns/net -- tc filter del dev eth0 parent ffff: prio 20035',
      'nsenter --net=/proc/4242/ns/net -- ip link del dev nc-ifb-eth0',
      `rm -f ${MARKER}`,
      'nsenter --net=/proc/4242/ns/net -- tc filter show dev eth0 ingress',
      `test ! -s ${MARKER}`,
    ]);
    assert.equal(text(c.main), 'nsenter --net=/proc/4242/ns/net -- tc qdisc del dev eth0 ingress');
    assert.equal(text(c.post), `rm -f ${MARKER}`);
  });
  test('systemd, DIRECTION=ingress: the marker is read on the ifb; no root delete on eth0 (its egress was never ours)', () => {
    const c = systemdCommands({ ...request, direction: 'ingress' });
    assert.equal(text(c.pre[0] ?? []), 'nsenter --net=/proc/4242/ns/net -- tc filter show dev nc-ifb-eth0 parent 4e43: prio 9');
    assert.ok(!c.pre.some((a) => text(a).includes('root handle 4e43:')));
    const at = (needle: string): number => c.pre.findIndex((a) => text(a).includes(needle));
    assert.ok(at('grep') < at('filter del') && at('filter del') < at('ip link del'), 'the checks, then the redirect, then the ifb (a redirect to a deleted device drops every packet)');
  });
  test('systemd, egress: unchanged (five checks, one delete); every unit sends stderr to the journal, not into the marker file', () => {
    const c = systemdCommands(request);
    assert.equal(c.pre.length, 5);
    assert.equal(text(c.main), 'nsenter --net=/proc/4242/ns/net -- tc qdisc del dev eth0 root handle 4e43:');
    const args = systemdArmArgs({ ...request, direction: 'both' }, 1960);
    assert.ok(args.includes('--property=StandardError=journal'));
    assert.ok(args.includes(`--property=ExecStartPre=test ! -s ${MARKER}`));
    assert.equal(args.filter((a) => a === 'sh' || a === '/bin/sh' || a.includes('$') || a.includes('%')).length, 0, 'no shell, no $ or %');
  });
});

describe('the namespace identity, checked again right before the apply and before every revert', () => {
  /** /proc/4242/ns/net leads to net:[1] until `moved()`, then to net:[2] (the PID reused, a --netns path bound again). */
  function moving() {
    let id = 'net:[1]';
    const ns = new FakeNetns();
    const processes = new FakeProcesses();
    const f = fakeDeps(ns, { processes, nsId: (p) => (p === '/proc/4242/ns/net' ? id : p === '/proc/1/ns/net' || p === '/proc/self/ns/net' ? 'net:[4026531840]' : undefined) });
    return { ns, f, processes, moved: () => { id = 'net:[2]'; } };
  }
  const s = specOf({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '30' });
  test('moved after preflight (during RAMP_TIME or the effect baseline): refused, nothing applied in the namespace it leads to now, no dead-man left', async () => {
    const { ns, f, processes, moved } = moving();
    let error: unknown;
    try {
      const ramped = specOf({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '30', RAMP_TIME: '5' });
      await inject(f.deps, { spec: ramped, plan: plan(ramped), netns: { kind: 'pid', pid: 4242 }, runId: RUN_ID, onEvent: (e) => { if (e.kind === 'ramp') moved(); } });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof TargetGoneError, String(error));
    assert.equal(exitCodeOf(error), 4);
    assert.match(error.message, /\/proc\/4242\/ns\/net now leads to the network namespace net:\[2\], not to net:\[1\] that preflight checked: nothing was changed/);
    assert.deepEqual(ns.calls.filter((c) => c.op === 'apply' || c.op === 'addLinks' || c.op === 'revertOnce'), [], 'no batch, no ifb, no delete');
    assert.equal(ns.root.handle, '0:');
    assert.equal(processes.started.length, 0, 'no watchdog was started for a tree that was never built');
  });
  test('moved after the apply, the tree\'s namespace gone: the revert does not delete anything in the namespace the path leads to now', async () => {
    const { ns, f, moved } = moving();
    const events: LifecycleEvent[] = [];
    let error: unknown;
    try {
      await inject(f.deps, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: RUN_ID, onEvent: (e) => { events.push(e); if (e.kind === 'injected') moved(); } });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof TargetGoneError, String(error));
    assert.deepEqual(ns.calls.filter((c) => c.op === 'revertOnce'), [], 'no delete through a reference that leads elsewhere');
    assert.ok(events.some((e) => e.kind === 'target-gone'), JSON.stringify(events.map((e) => e.kind)));
  });
});
