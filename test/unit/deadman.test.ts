/**
 * Crash-proof revert: the owner marker (render/parse), the dead-man (systemd argv, process watchdog,
 * auto/fallback, kept on a failed revert), `sweep` over several namespaces, and ON_TARGET_RESTART.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Spec } from '../../src/model/spec.ts';
import type { NetnsRef } from '../../src/model/netns.ts';
import { RevertError, RuntimeError, TargetGoneError, exitCodeOf } from '../../src/model/errors.ts';
import type { Deps, Exec } from '../../src/ports.ts';
import { plan } from '../../src/tc/plan.ts';
import { markerGuardLine, markerKeyTexts, markerLines, markerNode, parseMarker } from '../../src/tc/marker.ts';
import { inject } from '../../src/lifecycle/inject.ts';
import { armDeadman, systemdArmArgs, systemdCommands, watchdogArgs } from '../../src/lifecycle/deadman.ts';
import { describeSweep, sweep } from '../../src/lifecycle/sweep.ts';
import type { LifecycleEvent } from '../../src/lifecycle/events.ts';
import { type Env, specOf } from '../support/spec.ts';
import { FakeNetns, tcRouter } from '../support/fake-tc.ts';
import { FakeClock, FakeProcesses, fakeDeps, type FakeDepsOptions } from '../support/fake-ports.ts';

const RUN_ID = '0123456789abcdef';

const spec = (env: Env = {}): Spec => specOf({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '30', ...env });

describe('owner marker', () => {
  test('rendered as an unlinked u32 table under our root, protocol 0x4e43, one node with four keys', () => {
    assert.deepEqual(markerLines('eth0', { runId: RUN_ID, deadlineS: 0x6543abcd }), [
      'filter add dev eth0 parent 4e43: protocol 0x4e43 prio 9 handle 7ff: u32 divisor 1',
      'filter add dev eth0 parent 4e43: protocol 0x4e43 prio 9 handle 7ff::936 u32 ht 7ff:0: match u32 0x4e430001 0xffffffff at 0 match u32 0x6543abcd 0xffffffff at 4 match u32 0x01234567 0xffffffff at 8 match u32 0x89abcdef 0xffffffff at 12',
    ]);
  });
  test('the marker node id comes from the run id (1..fff), and the guard line gets exactly that node', () => {
    assert.equal(markerNode(RUN_ID), '7ff::936');
    assert.equal(markerNode('0000000000000000'), '7ff::1');
    assert.equal(markerNode('00000000ffffffff'), `7ff::${(1 + (0xffffffff % 0xfff)).toString(16)}`);
    assert.equal(markerGuardLine('eth0', RUN_ID), 'filter get dev eth0 parent 4e43: protocol 0x4e43 prio 9 handle 7ff::936 u32');
    // What the marker lines add is what the guard asks for.
    assert.ok(markerLines('eth0', { runId: RUN_ID, deadlineS: 1 })[1]?.includes(' handle 7ff::936 '));
  });
  test('read back from what tc 6.1 prints (measured in the lab VM), leading zeros included', () => {
    const text = ['filter protocol [20035] u32 chain 0 ', 'filter protocol [20035] u32 chain 0 fh 7ff: ht divisor 1 ',
      'filter protocol [20035] u32 chain 0 fh 7ff::1 order 1 key ht 7ff bkt 0 not_in_hw ',
      '  match 4e430001/ffffffff at 0', '  match 6543abcd/ffffffff at 4', '  match 01020304/ffffffff at 8', '  match a0b0c0d0/ffffffff at 12',
      'filter protocol [20035] u32 chain 0 fh 801: ht divisor 1 '].join('\n');
    assert.deepEqual(parseMarker(text), { runId: '01020304a0b0c0d0', deadlineS: 0x6543abcd, node: '7ff::1' });
    // The node id of this version (from the run id) reads the same, with the node it was read at.
    assert.deepEqual(parseMarker(text.replace(' fh 7ff::1 ', ' fh 7ff::d1 ')), { runId: '01020304a0b0c0d0', deadlineS: 0x6543abcd, node: '7ff::d1' });
  });
  test('no marker, another format version, or a missing key: undefined (never a guess)', () => {
    assert.equal(parseMarker(''), undefined);
    assert.equal(parseMarker('filter protocol [20035] u32 chain 0 fh 7ff::1 order 1 key ht 7ff bkt 0 \n  match 4e430002/ffffffff at 0\n  match 00000001/ffffffff at 4\n  match 00000001/ffffffff at 8\n  match 00000001/ffffffff at 12'), undefined);
    assert.equal(parseMarker('filter protocol [20035] u32 chain 0 fh 7ff::1 order 1 key ht 7ff bkt 0 \n  match 4e430001/ffffffff at 0\n  match 00000001/ffffffff at 4'), undefined);
  });
});

const request = { runId: RUN_ID, generation: 1, deadlineS: 2000, nsId: 'net:[4026532001]', path: '/proc/4242/ns/net', interface: 'eth0' };

describe('dead-man', () => {
  test('systemd: a transient timer on the node through nsenter -t 1; its commands are argv arrays (no shell), delete only after four marker checks', () => {
    const args = systemdArmArgs(request, 1960);
    assert.deepEqual(args.slice(0, 10), ['-t', '1', '-m', '-u', '-i', '-n', '-p', '--', 'systemd-run', `--unit=netchaos-revert-${RUN_ID}-1`]);
    assert.ok(args.includes('--on-active=40s'));
    assert.ok(args.includes('--timer-property=AccuracySec=1s'));
    assert.ok(args.includes(`--property=StandardOutput=file:/run/netchaos-revert-${RUN_ID}-1.marker`));
    assert.ok(args.includes('--property=ExecStartPre=nsenter --net=/proc/4242/ns/net -- tc filter show dev eth0 parent 4e43: prio 9'));
    for (const k of markerKeyTexts({ runId: RUN_ID, deadlineS: 2000 })) {
      assert.ok(args.includes(`--property=ExecStartPre=grep -qF "${k}" /run/netchaos-revert-${RUN_ID}-1.marker`), k);
    }
    assert.deepEqual(args.slice(args.indexOf('--', 9) + 1), ['nsenter', '--net=/proc/4242/ns/net', '--', 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root', 'handle', '4e43:']);
    assert.equal(args.filter((a) => a === 'sh' || a === '/bin/sh' || a.includes('$')).length, 0, 'no shell, no $');
    assert.deepEqual(systemdCommands(request).pre.length, 5);
  });
  test('systemd: a namespace path that cannot be passed safely is refused', () => {
    assert.throws(() => systemdCommands({ ...request, path: '/var/run/netns/a b' }), RuntimeError);
    assert.throws(() => systemdCommands({ ...request, path: '/var/run/netns/$x' }), RuntimeError);
  });
  test('process: a detached `netchaos watchdog` for this run and namespace; cancel kills only that process', async () => {
    const processes = new FakeProcesses();
    const cmdline: Record<string, string> = {};
    const f = fakeDeps(new FakeNetns(), { processes, readText: (p) => cmdline[p] });
    const events: LifecycleEvent[] = [];
    const armed = await armDeadman(f.deps, 'process', request, (e) => events.push(e));
    assert.equal(armed.mode, 'process');
    assert.deepEqual(processes.started[0]?.args.slice(1), watchdogArgs(request).slice(1));
    assert.deepEqual(processes.started[0]?.args.slice(1, 4), ['watchdog', '--run-id', RUN_ID]);
    assert.match(processes.started[0]?.logPath ?? '', new RegExp(`netchaos-watchdog-${RUN_ID}-1\\.log$`));
    const pid = processes.started[0]?.pid ?? 0;
    cmdline[`/proc/${pid}/cmdline`] = 'node\0cli.js\0watchdog\0--run-id\0ffffffffffffffff';
    await armed.cancel();
    assert.deepEqual(processes.killed, [], 'a PID reused by another process is not killed');
    cmdline[`/proc/${pid}/cmdline`] = `node\0cli.js\0watchdog\0--run-id\0${RUN_ID}`;
    await armed.cancel();
    assert.deepEqual(processes.killed, [{ pid, signal: 'SIGTERM' }]);
  });
  test('auto: systemd when the node\'s PID 1 is systemd; a failing systemd-run falls back to the watchdog, and says so', async () => {
    const calls: string[][] = [];
    const ok: Exec = (_f, args) => { calls.push([...args]); return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' }); };
    const f = fakeDeps(new FakeNetns(), { readText: (p) => (p === '/proc/1/comm' ? 'systemd\n' : undefined) });
    const armed = await armDeadman({ ...f.deps, exec: ok }, 'auto', request, () => {});
    assert.equal(armed.mode, 'systemd');
    await armed.cancel();
    assert.deepEqual(calls[1], ['-t', '1', '-m', '-u', '-i', '-n', '-p', '--', 'systemctl', 'stop', `netchaos-revert-${RUN_ID}-1.timer`]);

    const fail: Exec = () => Promise.resolve({ exitCode: 1, stdout: '', stderr: 'nsenter: reassociate to namespace \'ns/mnt\' failed: Operation not permitted\n' });
    const processes = new FakeProcesses();
    const g = fakeDeps(new FakeNetns(), { processes, readText: (p) => (p === '/proc/1/comm' ? 'systemd\n' : undefined) });
    const events: LifecycleEvent[] = [];
    const fallback = await armDeadman({ ...g.deps, exec: fail }, 'auto', request, (e) => events.push(e));
    assert.equal(fallback.mode, 'process');
    assert.equal(processes.started.length, 1);
    assert.match(JSON.stringify(events[0]), /unavailable.*CAP_SYS_CHROOT/);
  });
  test('DEADMAN=process: the watchdog is spawned while the apply batch runs, not before it (its node start does not delay the fault)', async () => {
    const ns = new FakeNetns();
    const processes = new FakeProcesses();
    const started: string[] = [];
    const detach = processes.detach;
    processes.detach = (file, args, logPath) => { started.push('watchdog'); return detach(file, args, logPath); };
    const f = fakeDeps(ns, { processes });
    // The real TcPort spawns tc a few promise steps after apply is called (src/host/exec.ts loads execa on the first
    // exec of a run, and the apply batch is the first exec of this inject): recorded at that moment.
    const spawnedLater = async (...a: Parameters<typeof f.deps.tc.apply>): ReturnType<typeof f.deps.tc.apply> => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
      started.push('tc -batch');
      return f.deps.tc.apply(...a);
    };
    const tc = { ...f.deps.tc, apply: spawnedLater };
    const s = spec({ DEADMAN: 'process', TOTAL_CHAOS_DURATION: '1' });
    const outcome = await inject({ ...f.deps, tc }, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: RUN_ID });
    assert.equal(outcome.status, 'completed');
    assert.deepEqual(started, ['tc -batch', 'watchdog'], 'the apply batch was started before the watchdog');
    assert.deepEqual(ns.tcOps, ['apply', 'revert'], 'one apply (its first line is the root check), one revert');
    assert.equal(processes.killed.length, 0, 'cancelled through its cmdline check only (the fake has none)');
  });
  test('DEADMAN=systemd that cannot be armed: exit 1 before any change', async () => {
    const ns = new FakeNetns();
    const f = fakeDeps(ns);
    const host: Exec = () => Promise.resolve({ exitCode: 127, stdout: '', stderr: 'systemd-run: not found\n' });
    const s = spec({ DEADMAN: 'systemd' });
    await assert.rejects(inject({ ...f.deps, exec: host }, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: RUN_ID }),
      (e: unknown) => e instanceof RuntimeError && exitCodeOf(e) === 1 && /could not arm the systemd dead-man/.test(e.message));
    assert.deepEqual(ns.tcOps, [], 'no tc at all: the systemd dead-man is armed before the first change');
    assert.equal(ns.root.handle, '0:');
  });
  test('a revert that keeps failing leaves the dead-man armed (it tries again at the deadline), and says so', async () => {
    const ns = new FakeNetns();
    ns.revertFailures = 99;
    const processes = new FakeProcesses();
    const f = fakeDeps(ns, { processes });
    const events: LifecycleEvent[] = [];
    const s = spec({ DEADMAN: 'process' });
    await assert.rejects(inject(f.deps, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: RUN_ID, onEvent: (e) => events.push(e) }), RevertError);
    assert.equal(processes.started.length, 1);
    assert.deepEqual(processes.killed, []);
    assert.ok(events.some((e) => e.kind === 'deadman' && e.action === 'kept'));
    assert.ok(f.lines.some((l) => /dead-man stays armed/.test(l.msg)));
  });
});

describe('sweep', () => {
  /** Namespaces a (ours, expired), b (ours, live), c (prio 4e43: without a marker), d (clean); /proc/1 is a again. */
  function node(nowS: number) {
    const ns: Record<string, FakeNetns> = {};
    const ids: Record<string, string> = {};
    for (const [name, id] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) {
      ns[`/var/run/netns/${name}`] = new FakeNetns();
      ids[`/var/run/netns/${name}`] = `net:[${id}]`;
    }
    ids['/proc/1/ns/net'] = 'net:[1]';
    ns['/proc/1/ns/net'] = ns['/var/run/netns/a'] as FakeNetns;
    const tree = async (n: FakeNetns, owner: { runId: string; deadlineS: number } | undefined) => {
      await n.apply({ kind: 'netns', path: 'x' }, [...plan(spec()).apply, ...(owner ? markerLines('eth0', owner) : [])]);
    };
    const clock = new FakeClock();
    clock.t = nowS * 1000;
    const opts: FakeDepsOptions = {
      clock,
      nsId: (p) => ids[p],
      list: (p) => (p === '/var/run/netns' ? ['a', 'b', 'c', 'd'] : p === '/proc' ? ['1', 'self'] : []),
      readText: (p) => (p === '/proc/1/comm' ? 'systemd\n' : undefined),
    };
    const f = fakeDeps(new FakeNetns(), opts);
    const deps: Deps = { ...f.deps, tc: tcRouter(ns) };
    return { ns, deps, tree };
  }

  test('removes only expired trees of ours, in every namespace (each once), leaves live and unmarked ones, and says what it did', async () => {
    const { ns, deps, tree } = node(5000);
    await tree(ns['/var/run/netns/a'] as FakeNetns, { runId: RUN_ID, deadlineS: 4990 });
    await tree(ns['/var/run/netns/b'] as FakeNetns, { runId: 'fedcba9876543210', deadlineS: 5030 });
    await tree(ns['/var/run/netns/c'] as FakeNetns, undefined);
    const report = await sweep(deps);
    assert.equal(report.namespaces, 4, 'a is reached twice (netns a and pid 1) and counted once');
    assert.deepEqual(report.trees.map((t) => [t.namespace, t.interface, t.status]), [
      ['netns a', 'eth0', 'removed'], ['netns b', 'eth0', 'live'], ['netns c', 'eth0', 'unmarked'],
    ]);
    assert.equal(ns['/var/run/netns/a']?.root.handle, '0:');
    assert.equal(ns['/var/run/netns/b']?.root.handle, '4e43:');
    assert.equal(ns['/var/run/netns/c']?.root.handle, '4e43:');
    const text = describeSweep(report);
    assert.match(text, /REMOVED +eth0 in netns a \(net:\[1\]\): expired \(run 0123456789abcdef, deadline .*10 s ago\): removed/);
    assert.match(text, /LIVE +eth0 in netns b .*active until .*in 30 s: left alone/);
    assert.match(text, /UNMARKED eth0 in netns c .*without a readable netchaos marker/);
    assert.match(text, /4 network namespace\(s\) looked at, 3 netchaos tree\(s\) found: 1 removed, 1 live/);
    const again = await sweep(deps);
    assert.deepEqual(again.trees.map((t) => t.status), ['live', 'unmarked'], 'idempotent: nothing more to remove');
  });
  test('an expired DIRECTION=both run: the ingress redirect and the ifb go with the tree', async () => {
    const { ns, deps, tree } = node(5000);
    const a = ns['/var/run/netns/a'] as FakeNetns;
    await tree(a, { runId: RUN_ID, deadlineS: 4990 });
    a.ingress = 'ours';
    a.ifb = true;
    const report = await sweep(deps);
    const swept = report.trees.find((t) => t.namespace === 'netns a');
    assert.equal(swept?.status, 'removed');
    assert.match(swept?.detail ?? '', /also removed ingress qdisc on eth0 and ifb device nc-ifb-eth0/);
    assert.equal(a.root.handle, '0:');
    assert.equal(a.ingress, 'none');
    assert.equal(a.ifb, false);
  });
  test('a live run keeps its ingress side too', async () => {
    const { ns, deps, tree } = node(5000);
    const b = ns['/var/run/netns/b'] as FakeNetns;
    await tree(b, { runId: RUN_ID, deadlineS: 5030 });
    b.ingress = 'ours';
    b.ifb = true;
    await sweep(deps);
    assert.equal(b.ingress, 'ours');
    assert.equal(b.ifb, true);
  });
  test('the watchdog\'s sweep: one namespace (by inode) and one run only', async () => {
    const { ns, deps, tree } = node(5000);
    await tree(ns['/var/run/netns/a'] as FakeNetns, { runId: 'fedcba9876543210', deadlineS: 4990 });
    await tree(ns['/var/run/netns/b'] as FakeNetns, { runId: RUN_ID, deadlineS: 4990 });
    const report = await sweep(deps, { only: { nsId: 'net:[1]', runId: RUN_ID, hint: '/proc/4242/ns/net' } });
    assert.deepEqual(report.trees, [], 'another run\'s expired tree in that namespace is not the watchdog\'s business');
    assert.equal(ns['/var/run/netns/a']?.root.handle, '4e43:');
    const mine = await sweep(deps, { only: { nsId: 'net:[2]', runId: RUN_ID } });
    assert.deepEqual(mine.trees.map((t) => t.status), ['removed']);
    assert.equal(ns['/var/run/netns/b']?.root.handle, '0:');
  });
});

describe('ON_TARGET_RESTART', () => {
  /** Old target pid 4242 in net:[1]; from `goneAt` ms it is gone; from `backAt` the pid file names 5555 in `newId`. */
  function restart(opts: { mode: 'end' | 'reinject'; goneAt: number; backAt: number; newId: string; oldLivesOn?: boolean; sameNamespace?: boolean }) {
    const oldNs = new FakeNetns();
    const newNs = opts.sameNamespace ? oldNs : new FakeNetns();
    const processes = new FakeProcesses();
    const clock = new FakeClock();
    const t0 = clock.t;
    const gone = (): boolean => clock.t - t0 >= opts.goneAt;
    const back = (): boolean => clock.t - t0 >= opts.backAt;
    const f = fakeDeps(oldNs, {
      clock, processes,
      nsId: (p) => (p === '/proc/4242/ns/net' ? (gone() ? undefined : 'net:[1]') : p === '/proc/5555/ns/net' ? (back() ? opts.newId : undefined)
        : p === '/var/run/netns/pause' && opts.oldLivesOn ? 'net:[1]' : undefined),
      list: (p) => (p === '/var/run/netns' && opts.oldLivesOn ? ['pause'] : []),
      readText: (p) => (p.endsWith('/cmdline') ? `node\0cli.js\0watchdog\0--run-id\0${RUN_ID}` : undefined),
    });
    const deps: Deps = { ...f.deps, tc: tcRouter({ 'pid 4242': oldNs, 'pid 5555': newNs, '/var/run/netns/pause': oldNs }) };
    const s = spec({ ON_TARGET_RESTART: opts.mode, DEADMAN: 'process', TOTAL_CHAOS_DURATION: '30' });
    const events: LifecycleEvent[] = [];
    const refind = (): Promise<NetnsRef | undefined> => Promise.resolve({ kind: 'pid', pid: back() ? 5555 : 4242 });
    const result = inject(deps, { spec: s, plan: plan(s), netns: { kind: 'pid', pid: 4242 }, runId: RUN_ID, refind, onEvent: (e) => events.push(e) })
      .then((outcome) => ({ outcome, error: undefined as unknown }), (error: unknown) => ({ outcome: undefined, error }));
    return { oldNs, newNs, processes, events, result, lines: f.lines, clock, t0 };
  }

  test('reinject: the target comes back in a new namespace; the same plan and owner go there for the remaining time', async () => {
    const r = restart({ mode: 'reinject', goneAt: 5000, backAt: 8000, newId: 'net:[2]' });
    const { outcome, error } = await r.result;
    assert.equal(error, undefined);
    assert.deepEqual(outcome, { status: 'completed', reinjected: 1 });
    const kinds = r.events.map((e) => e.kind);
    assert.deepEqual(kinds.slice(kinds.indexOf('target-waiting')), ['target-waiting', 'target-gone', 'deadman', 'target-restarted', 'preflight-ok', 'deadman', 'reinjected', 'progress', 'progress', 'reverted', 'deadman']);
    assert.deepEqual(r.newNs.tcOps, ['show', 'apply', 'revert']);
    assert.equal(r.newNs.root.handle, '0:', 'reverted at the end');
    const firstBatch = r.oldNs.batches[0];
    const secondBatch = r.newNs.batches[0];
    assert.ok(firstBatch && firstBatch.length > 0);
    assert.deepEqual(secondBatch, firstBatch, 'same tree, same owner marker (run id and deadline)');
    assert.equal(r.processes.started.length, 2, 'one dead-man per injection');
    assert.deepEqual(r.processes.killed.map((k) => k.pid), r.processes.started.map((p) => p.pid), 'both cancelled');
    assert.equal(r.clock.t - r.t0, 30_000, 'the run keeps its end');
    const reinjected = r.events.find((e) => e.kind === 'reinjected');
    assert.deepEqual(reinjected && { g: reinjected.generation, t: reinjected.target, left: reinjected.remainingS }, { g: 2, t: 'pid 5555', left: 22 });
  });

  test('end: the target restarted elsewhere ends the run (exit 4), says how to follow it, and touches nothing new', async () => {
    const r = restart({ mode: 'end', goneAt: 5000, backAt: 5000, newId: 'net:[2]' });
    const { error } = await r.result;
    assert.ok(error instanceof TargetGoneError);
    assert.equal(exitCodeOf(error), 4);
    assert.match(error.message, /\/proc\/4242\/ns\/net no longer exists.*old namespace net:\[1\] is gone, and its tc tree with it.*ON_TARGET_RESTART=reinject/);
    assert.deepEqual(r.newNs.calls, []);
    assert.ok(r.events.some((e) => e.kind === 'target-restarted' && e.action === 'end'));
    assert.ok(r.clock.t - r.t0 <= 6000);
  });

  test('a new process in the same namespace (a restarted container in its pod): followed, the tree stays, one apply', async () => {
    const r = restart({ mode: 'end', goneAt: 5000, backAt: 5000, newId: 'net:[1]', sameNamespace: true });
    const { outcome, error } = await r.result;
    assert.equal(error, undefined);
    assert.deepEqual(outcome, { status: 'completed', reinjected: 0 });
    assert.ok(r.events.some((e) => e.kind === 'target-followed'));
    assert.deepEqual(r.oldNs.tcOps, ['apply', 'marker', 'revert'], 'one apply; a marker read proves it is the same namespace');
    assert.deepEqual(r.oldNs.calls.at(-1)?.netns, { kind: 'pid', pid: 5555 }, 'the revert enters through the new process');
  });

  test('a new namespace that got the old one\'s inode number (the kernel reuses them at once) is a restart, not the same namespace', async () => {
    const r = restart({ mode: 'reinject', goneAt: 5000, backAt: 5000, newId: 'net:[1]' });
    const { outcome, error } = await r.result;
    assert.equal(error, undefined);
    assert.deepEqual(outcome, { status: 'completed', reinjected: 1 });
    assert.deepEqual(r.newNs.tcOps, ['marker', 'show', 'apply', 'revert'], 'the marker read (not ours), the preflight, the apply, the revert');
  });

  test('end, the process is gone but its namespace lives on (held by a pause process): the tree is removed there, exit 4', async () => {
    const r = restart({ mode: 'end', goneAt: 5000, backAt: 99_000, newId: 'net:[2]', oldLivesOn: true });
    const { error } = await r.result;
    assert.ok(error instanceof TargetGoneError);
    assert.match(error.message, /old namespace net:\[1\] lived on: the tree was removed from it/);
    assert.ok(r.events.some((e) => e.kind === 'target-followed' && /net:\[1\] lives on in netns pause: reverting there/.test(e.detail)), 'found by its inode, said where');
    assert.equal(r.oldNs.root.handle, '0:');
  });

  test('reinject, but the target never comes back: its old tree is handled and the run ends with exit 4 at its end', async () => {
    const r = restart({ mode: 'reinject', goneAt: 5000, backAt: 99_000, newId: 'net:[2]' });
    const { error } = await r.result;
    assert.ok(error instanceof TargetGoneError);
    assert.match(error.message, /did not come back \(ON_TARGET_RESTART=reinject\)/);
    assert.equal(r.clock.t - r.t0, 30_000);
  });
});

describe('command line', () => {
  async function cli(argv: string[], opts: FakeDepsOptions = {}, ns = new FakeNetns()) {
    const { run } = await import('../../src/cli/main.ts');
    let stdout = '';
    let stderr = '';
    const f = fakeDeps(ns, opts);
    const code = await run(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env: {} }, () => f.host);
    return { code, stdout, stderr, ns };
  }
  test('sweep: every reachable namespace, a summary line, exit 0', async () => {
    const ns = new FakeNetns();
    const r = await cli(['sweep'], { list: (p) => (p === '/var/run/netns' ? ['app'] : []), nsId: (p) => (p === '/var/run/netns/app' ? 'net:[7]' : undefined) }, ns);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1 network namespace\(s\) looked at, 0 netchaos tree\(s\) found/m);
    assert.deepEqual(ns.calls.map((c) => [c.op, c.netns]), [['allQdiscs', { kind: 'netns', path: '/var/run/netns/app' }]]);
  });
  test('--pid-file: one target among --pid/--netns/--container-id; a file without a PID is an error before any change', async () => {
    assert.equal((await cli(['inject', '--pid', '1', '--pid-file', '/run/app.pid'])).code, 2);
    const r = await cli(['inject', '--pid-file', '/nonexistent/app.pid', '--destination-ips', '192.0.2.11']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--pid-file \/nonexistent\/app\.pid: no PID in it/);
    assert.deepEqual(r.ns.calls, []);
  });
  test('plan shows the owner marker inject appends', async () => {
    const r = await cli(['plan', '--destination-ips', '192.0.2.11']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Owner marker \(inject appends it.*DEADMAN=auto\):\n {2}filter add dev eth0 parent 4e43: protocol 0x4e43 prio 9 handle 7ff: u32 divisor 1\n/);
    assert.match(r.stdout, /\nDead-man: systemd on a node whose PID 1 is systemd .*else the process watchdog \(it dies with a pod\).*the next run on the target removes an expired tree of ours before it injects/);
  });
});
