// Crash-proof revert (issue 7) in the real kernel: the owner marker, the dead-man, `netchaos sweep`,
// and a target that restarts into a new network namespace (ON_TARGET_RESTART). Runs INSIDE the lab VM
// after lab.test.mjs (test/lab/guest/test.sh). Every figure is printed and recorded.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  DEPS, OUT, CLI, ensureLab, cliExists, tcState, hasOurTree, tc, run, startInject, cli, resetApp, sleep, check, show,
  waitFor, probePing,
  APP, deadline,
} from './lib.mjs';

const B = DEPS.B;
const C = DEPS.C;
const LAT = 100;
let PID;

const tail = (s, n = 600) => (s ?? '').trim().slice(-n);
const outputOf = (r) => ({ code: r.code, signal: r.signal, stdout: tail(r.stdout), stderr: tail(r.stderr) });

/** The owner marker of the tree on dev in ns (name or pid), parsed from `tc filter show … prio 9`. */
function marker(ns, dev = 'eth0') {
  const text = tc(ns, ['filter', 'show', 'dev', dev, 'parent', '4e43:', 'prio', '9']).stdout;
  const keys = Object.fromEntries([...text.matchAll(/match ([0-9a-f]{8})\/ffffffff at (\d+)/g)].map((m) => [m[2], m[1]]));
  if (keys['0'] !== '4e430001') return null;
  return { runId: keys['8'] + keys['12'], deadlineS: parseInt(keys['4'], 16) };
}

const safe = (fn) => { try { return fn(); } catch { return false; } };

/** A process in a fresh network namespace, eth0 on the lab bridge with 192.0.2.<ip>/24. */
async function volatileTarget(hostIf, ip) {
  const child = spawn('unshare', ['-n', 'sleep', 'infinity'], { stdio: 'ignore', detached: true });
  // Never what keeps this file's process alive: when a scenario failed before its cleanup, the file waited out the
  // test runner's 900 s timeout on it.
  child.unref();
  const pid = child.pid;
  const kill = () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } };
  try {
    // Until unshare has entered its new namespace, /proc/<pid>/ns/net is still ours: the veth's peer would land here.
    // (A fixed 300 ms wait was too short at host load 5.4: "Cannot find device eth0", 24-reinject failed, 2026-12-01.)
    const own = readlinkSync('/proc/self/ns/net');
    const unshared = await waitFor(() => safe(() => readlinkSync(`/proc/${pid}/ns/net`) !== own), 10000, 20);
    if (unshared === null) throw new Error(`unshare -n (pid ${pid}) never entered a network namespace of its own within 10 s`);
    for (const [cmd, args] of [
      ['ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)]],
      ['ip', ['link', 'set', hostIf, 'master', 'br0', 'up']],
      ['nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'addr', 'add', `192.0.2.${ip}/24`, 'dev', 'eth0']],
      ['nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'link', 'set', 'lo', 'up']],
      ['nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'link', 'set', 'eth0', 'up']],
    ]) {
      const r = run(cmd, args);
      if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    }
  } catch (e) {
    kill();
    throw e;
  }
  return { pid, child, kill };
}

/** Median ping RTT (ms) per address from inside the namespace of `pid`. */
async function pingFrom(pid, addrs, { count = 40, interval = 0.02 } = {}) {
  const res = await probePing(addrs, { count, interval, pid });
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.rtt?.median ?? null]));
}

before(() => {
  assert.ok(cliExists(), `${CLI} is missing`);
  PID = ensureLab();
});

// ---------------------------------------------------------------------------
test('20. SIGKILL of the runner mid-run: the process dead-man removes the tree by deadline + a few s, nobody calls revert', async (t) => {
  const before0 = tcState(APP.ns);
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '10', DEADMAN: 'process', DEADMAN_GRACE: '2' } });
    check(h.applied, 'our tree never appeared', h.output);
    check(await h.whole(), 'the run must report its tree injected within 60 s', h.output.stderr.slice(-800)); // the marker's lines follow the root's
    const m = marker(APP.ns);
    check(m !== null, 'the tree must carry an owner marker', tc(APP.ns, ['filter', 'show', 'dev', 'eth0']).stdout.slice(0, 2000));
    const killedAt = Date.now();
    await h.stop('SIGKILL');
    const afterKill = hasOurTree(APP.ns);
    const waited = await waitFor(() => !safe(() => hasOurTree(APP.ns)), (m.deadlineS * 1000 - Date.now()) + 20000, 100);
    const goneAt = Date.now();
    const vsDeadlineMs = goneAt - m.deadlineS * 1000;
    const logFile = path.join('/tmp', `netchaos-watchdog-${m.runId}-1.log`);
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(no watchdog log)';
    show(t, 'dead-man', { runId: m.runId, deadline: new Date(m.deadlineS * 1000).toISOString(), killedToDeadlineMs: m.deadlineS * 1000 - killedAt, treeRightAfterKill: afterKill, goneAfterDeadlineMs: waited === null ? null : vsDeadlineMs });
    show(t, 'watchdog log (tail)', tail(log, 700));
    check(afterKill, 'right after SIGKILL the tree is still there (the deadline has not passed)', {});
    check(waited !== null, 'the tree must be gone by deadline + 20 s', { log: tail(log) });
    check(vsDeadlineMs >= -1000, 'the dead-man must not remove the tree before its deadline', { vsDeadlineMs });
    // Measured from the deadline to the tree gone: 2.8 s on a quiet host, 6.6 s at host load ~4.5 (labspeed3,
    // 2026-12-01, where a 6 s bound failed): the bound is twice the loaded figure.
    check(vsDeadlineMs <= 14000, 'the tree must be gone within 14 s after the deadline', { vsDeadlineMs });
    assert.deepEqual(tcState(APP.ns), before0, 'state after the dead-man must equal the state before');
  } finally {
    if (h) await h.stop('SIGKILL', 2000);
    if (safe(() => hasOurTree(APP.ns))) resetApp(APP.ns);
  }
});

test('21. `netchaos sweep` leaves a live run and an unmarked prio 4e43: alone, and says so', async (t) => {
  const ns = 'sweep-x';
  for (const args of [['netns', 'add', ns], ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'e1'], ['-n', ns, 'link', 'set', 'eth0', 'up']]) {
    assert.equal(run('ip', args).code, 0, `ip ${args.join(' ')}`);
  }
  let h;
  try {
    assert.equal(tc(ns, ['qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '4e43:', 'prio', 'bands', '4']).code, 0);
    h = await startInject(['--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '600', DEADMAN: 'off' } });
    check(h.applied, 'our tree never appeared', h.output);
    check(await h.whole(), 'the run must report its tree injected within 60 s', h.output.stderr.slice(-800));
    const s1 = tcState(APP.ns);
    const foreign1 = tcState(ns);
    const r = cli(['sweep']);
    const rj = cli(['sweep', '--output', 'json']);
    show(t, 'sweep output', { code: r.code, ms: Math.round(r.ms), stdout: tail(r.stdout, 1500), stderr: tail(r.stderr, 300) });
    const report = JSON.parse(rj.stdout);
    const app = report.trees.find((x) => x.interface === 'eth0' && x.namespace === `netns ${APP.ns}`);
    const other = report.trees.find((x) => x.namespace === `netns ${ns}`);
    check(r.code === 0, 'sweep exits 0', outputOf(r));
    check(app?.status === 'live', 'the live run in app is reported live', report.trees);
    check(other?.status === 'unmarked', 'the prio 4e43: without a marker is reported unmarked', report.trees);
    assert.deepEqual(tcState(APP.ns), s1, 'the live tree must be untouched');
    assert.deepEqual(tcState(ns), foreign1, 'the unmarked tree must be untouched');
    check(h.child.exitCode === null, 'the run must still be active', h.output);
    const stop = await h.stop('SIGTERM');
    check(stop.code === 143 && !hasOurTree(APP.ns), 'the run still reverts normally', outputOf(stop));
  } finally {
    if (h) await h.stop('SIGKILL', 2000);
    if (safe(() => hasOurTree(APP.ns))) resetApp(APP.ns);
    run('ip', ['netns', 'del', ns]);
  }
});

test('22. DEADMAN=off, runner SIGKILLed: the tree stays past its deadline; `netchaos sweep` removes it; a second sweep finds nothing', async (t) => {
  const before0 = tcState(APP.ns);
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '6', DEADMAN: 'off', DEADMAN_GRACE: '1' } });
    check(h.applied, 'our tree never appeared', h.output);
    const m = marker(APP.ns);
    await h.stop('SIGKILL');
    await sleep(Math.max(0, m.deadlineS * 1000 - Date.now()) + 1500);
    const stillThere = hasOurTree(APP.ns);
    const r1 = cli(['sweep']);
    const after1 = tcState(APP.ns);
    const r2 = cli(['sweep']);
    show(t, 'sweeps', { deadline: new Date(m.deadlineS * 1000).toISOString(), stillThereAfterDeadline: stillThere, first: { code: r1.code, ms: Math.round(r1.ms), stdout: tail(r1.stdout, 900) }, second: { code: r2.code, stdout: tail(r2.stdout, 400) } });
    check(stillThere, 'with DEADMAN=off nothing removes the tree by itself', {});
    check(r1.code === 0 && new RegExp(`REMOVED\\s+eth0 in netns ${APP.ns}\\b`).test(r1.stdout), 'the first sweep removes the expired tree in app', outputOf(r1));
    assert.deepEqual(after1, before0, 'state after the sweep must equal the state before the run');
    check(r2.code === 0 && !/REMOVED/.test(r2.stdout), 'a second sweep removes nothing and exits 0', outputOf(r2));
  } finally {
    if (h) await h.stop('SIGKILL', 2000);
    if (safe(() => hasOurTree(APP.ns))) resetApp(APP.ns);
  }
});

test('23. the systemd dead-man\'s commands (run here in systemd\'s order, no systemd in the VM): this run\'s tree removed, another run\'s left; DEADMAN=systemd without systemd refuses before any change', async (t) => {
  const s0 = tcState(APP.ns);
  const r0 = cli(['inject', '--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '5', DEADMAN: 'systemd' } });
  show(t, 'DEADMAN=systemd here', { code: r0.code, stderr: tail(r0.stderr, 400) });
  check(r0.code === 1 && /systemd dead-man/.test(r0.stderr), 'DEADMAN=systemd that cannot be armed exits 1', outputOf(r0));
  assert.deepEqual(tcState(APP.ns), s0, 'nothing was changed');

  /** ExecStartPre= in order (stdout of all to the marker file, like StandardOutput=file:), stop at the first failure, then ExecStart=, then ExecStopPost=. */
  const runUnit = (cmds) => {
    const steps = [];
    for (const argv of cmds.pre) {
      const r = run(argv[0], argv.slice(1));
      if (argv[0] === 'nsenter') writeFileSync(cmds.markerFile, r.stdout);
      steps.push({ argv: argv.join(' '), code: r.code });
      if (r.code !== 0) { run(cmds.post[0], cmds.post.slice(1)); return { deleted: false, steps }; }
    }
    const m = run(cmds.main[0], cmds.main.slice(1));
    steps.push({ argv: cmds.main.join(' '), code: m.code });
    run(cmds.post[0], cmds.post.slice(1));
    return { deleted: m.code === 0, steps };
  };
  const unitFor = (runId, deadlineS, nsId) => {
    const r = cli(['deadman-unit', '--run-id', runId, '--netns-id', nsId, '--deadline', String(deadlineS), '--interface', 'eth0', '--path', `/run/netns/${APP.ns}`]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '600', DEADMAN: 'off' } });
    check(h.applied, 'our tree never appeared', h.output);
    const m = marker(APP.ns);
    const nsId = run('readlink', [`/proc/${PID}/ns/net`]).stdout.trim();
    const other = unitFor('0123456789abcdef', m.deadlineS, nsId);
    const otherRun = runUnit(other.commands);
    const treeAfterOther = hasOurTree(APP.ns);
    const mine = unitFor(m.runId, m.deadlineS, nsId);
    const mineRun = runUnit(mine.commands);
    show(t, 'systemd-run argv (this run)', mine.nsenter);
    show(t, 'unit of another run', otherRun);
    show(t, 'unit of this run', mineRun);
    check(!otherRun.deleted && treeAfterOther, 'the unit of another run must leave the tree', otherRun);
    check(mineRun.deleted && !hasOurTree(APP.ns), 'the unit of this run must remove it', mineRun);
    check(mine.nsenter.slice(0, 8).join(' ') === '-t 1 -m -u -i -n -p --' && mine.nsenter[8] === 'systemd-run', 'armed through nsenter -t 1 … systemd-run', mine.nsenter);
    const stop = await h.stop('SIGTERM');
    show(t, 'runner after its tree was removed under it', { code: stop.code, stderr: tail(stop.stderr, 300) });
    check(stop.code === 143, 'the runner still ends cleanly (nothing left to revert)', outputOf(stop));
  } finally {
    if (h) await h.stop('SIGKILL', 2000);
    if (safe(() => hasOurTree(APP.ns))) resetApp(APP.ns);
  }
});

// ---------------------------------------------------------------------------
// The target restarts into a new namespace: --pid-file names the process; the "restart" kills it and
// starts a new one in a fresh namespace wired to the bridge with the same address, then rewrites the file.
for (const mode of ['reinject', 'end']) {
  test(`24-${mode}. the target restarts in a new namespace mid-run (--pid-file, ON_TARGET_RESTART=${mode})`, async (t) => {
    const pidFile = path.join(OUT, `target-${mode}.pid`);
    const ip = mode === 'reinject' ? 45 : 46;
    let t1 = await volatileTarget(`vr${ip}a`, ip);
    let t2;
    writeFileSync(pidFile, `${t1.pid}\n`);
    let h;
    try {
      h = await startInject(['--pid-file', pidFile], { ns: t1.pid, env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: mode === 'reinject' ? '36' : '25', ON_TARGET_RESTART: mode, DEADMAN: 'process', MEASURE_EFFECT: 'false' } });
      check(h.applied, 'our tree never appeared in the first target', h.output);
      const rtt1 = await pingFrom(t1.pid, [B.v4, C.v4]);
      const restartAt = Date.now();
      t1.kill();
      await sleep(300);
      t2 = await volatileTarget(`vr${ip}b`, ip);
      writeFileSync(pidFile, `${t2.pid}\n`);
      if (mode === 'reinject') {
        const waited = await waitFor(() => safe(() => hasOurTree(t2.pid)), 30000, 200);
        const rtt2 = waited === null ? null : await pingFrom(t2.pid, [B.v4, C.v4]);
        const m2 = marker(t2.pid);
        // The run ends by itself 36 s after the first apply: twice what the restart, the re-injection and the two
        // measurements took (measuredAfterApplyMs 5.9-7.9 s in four runs on a quiet host, 16.0 and 17.7 s on loaded
        // ones, 2026-12-01; 32.7 s once when every ping probe started a node process, and the window was 65 s, then 40).
        const measuredAfterApplyMs = Date.now() - h.startedAt - h.appliedMs;
        const r = await Promise.race([h.done, deadline(150000).then(() => null)]);
        show(t, 'figures', { rtt1, rtt2, treeInNewNamespaceWithinMs: waited, measuredAfterApplyMs, marker2: m2, exit: r && { code: r.code, ms: r.ms } });
        writeFileSync(path.join(OUT, `runner-24-${mode}.log`), r?.stderr ?? h.output.stderr);
        show(t, 'runner log (tail)', tail(r?.stderr, 900));
        check(Math.abs(rtt1[B.v4] - rtt1[C.v4] - LAT) <= LAT * 0.1, 'first target: B gets +100 ms over C', rtt1);
        check(waited !== null, 'the tree must appear in the new namespace within 30 s', { stderr: tail(h.output.stderr) });
        check(Math.abs(rtt2[B.v4] - rtt2[C.v4] - LAT) <= LAT * 0.1, 'new target: B gets +100 ms over C, C untouched', rtt2);
        check(r !== null && r.code === 0, 'the run ends normally (exit 0) after the remaining time', r && outputOf(r));
        check(/re-injected/.test(r.stderr), 'the log says it re-injected', outputOf(r));
        check(!safe(() => hasOurTree(t2.pid)), 'the tree is removed from the new namespace at the end', {});
      } else {
        const r = await Promise.race([h.done, deadline(30000).then(() => null)]);
        show(t, 'figures', { rtt1, endedAfterMs: r ? Date.now() - restartAt : null, exit: r && { code: r.code, stderr: tail(r.stderr, 500) } });
        check(r !== null, 'the run must end within 30 s of the restart', {});
        check(r.code === 4, 'ON_TARGET_RESTART=end: exit 4', outputOf(r));
        check(/ON_TARGET_RESTART/.test(r.stderr), 'the message names ON_TARGET_RESTART', outputOf(r));
        check(!safe(() => hasOurTree(t2.pid)), 'nothing is injected into the new namespace', {});
      }
    } finally {
      if (h) await h.stop('SIGKILL', 2000);
      t1.kill();
      t2?.kill();
    }
  });
}
