// Own only what is ours (issue 12, part B) in the real kernel: ifb names that never collide, a revert/sweep of
// one interface that leaves another's ingress fault working, a target process that leaves while a pause process
// keeps its namespace, and two runs at once on one namespace. Runs INSIDE the lab VM (test/lab/guest/test.sh).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  DEPS, CLI, UNTOUCHED_MS, ensureLab, cliExists, cliEnv, cli, tc, run, sleep, check, show, round,
  waitFor, probePing, deadline,
} from './lib.mjs';

const B = DEPS.B;
const LAT = 100;
const NS = 'sown';
const IF1 = 'enp0s31f6';
const IF2 = 'enp0s31f6.100';
const IP1 = '192.0.2.60';
const IP2 = '192.0.2.61';

const tail = (s, n = 600) => (s ?? '').trim().slice(-n);

/** `netchaos …` in the background: { child, done, output, stop(signal) }. */
function spawnCli(args, env) {
  const t0 = Date.now();
  const child = spawn('node', [CLI, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c) => (out.stdout += c));
  child.stderr.on('data', (c) => (out.stderr += c));
  let exited = null;
  const done = new Promise((resolve) => child.on('close', (code, signal) => { exited = { code, signal, ...out, ms: Date.now() - t0 }; resolve(exited); }));
  return {
    child, done, out,
    get exited() { return exited; },
    async stop(signal = 'SIGTERM', waitMs = 30000) {
      if (exited) return exited;
      child.kill(signal);
      const r = await Promise.race([done, deadline(waitMs).then(() => null)]);
      if (r) return r;
      child.kill('SIGKILL');
      return { ...(await done), hung: true };
    },
  };
}

const ifbs = (ns) => (run('ip', ['-n', ns, '-o', 'link', 'show', 'type', 'ifb']).stdout.match(/^\d+: ([^:@]+)/gm) ?? []).map((l) => l.replace(/^\d+: /, ''));
const redirectOf = (ns, dev) => /Redirect to device (\S+)\)/.exec(tc(ns, ['filter', 'show', 'dev', dev, 'ingress']).stdout)?.[1] ?? null;
const rootOf = (ns, dev) => JSON.parse(tc(ns, ['-j', 'qdisc', 'show', 'dev', dev]).stdout.trim() || '[]').find((q) => q.root);

/** Median ping RTT (ms) from dep-b to each address (the requests cross the target's ingress). */
async function pingFromB(addrs, { count = 30, interval = 0.02 } = {}) {
  const res = await probePing(addrs, { count, interval, ns: B.ns });
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.rtt?.median ?? null]));
}
const added = (base, now) => Object.fromEntries(Object.keys(base).map((k) => [k, round(now[k] - base[k])]));

/** The owner marker on dev in ns (run id and deadline), or null. */
function marker(ns, dev) {
  const text = tc(ns, ['filter', 'show', 'dev', dev, 'parent', '4e43:', 'prio', '9']).stdout;
  const keys = Object.fromEntries([...text.matchAll(/match ([0-9a-f]{8})\/ffffffff at (\d+)/g)].map((m) => [m[2], m[1]]));
  if (keys['0'] !== '4e430001') return null;
  return { runId: keys['8'] + keys['12'], deadlineS: parseInt(keys['4'], 16) };
}

function mustIp(args) {
  const r = run('ip', args);
  assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
}

before(() => {
  assert.ok(cliExists(), `${CLI} is missing`);
  ensureLab();
});

// ---------------------------------------------------------------------------
test('70. two interfaces with a common 8-char prefix, DIRECTION=ingress on both: revert and sweep of one leave the other working', async (t) => {
  run('ip', ['netns', 'del', NS]);
  mustIp(['netns', 'add', NS]);
  const runs = [];
  try {
    for (const [host, dev, ip] of [['so1', IF1, IP1], ['so2', IF2, IP2]]) {
      mustIp(['link', 'add', host, 'type', 'veth', 'peer', 'name', dev, 'netns', NS]);
      mustIp(['link', 'set', host, 'master', 'br0', 'up']);
      mustIp(['-n', NS, 'addr', 'add', `${ip}/24`, 'dev', dev]);
      mustIp(['-n', NS, 'link', 'set', dev, 'up']);
    }
    mustIp(['-n', NS, 'link', 'set', 'lo', 'up']);
    // Each interface answers ARP for its own address only, and replies are not dropped for arriving elsewhere.
    for (const k of ['net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.all.rp_filter=0', `net.ipv4.conf.${IF1}.rp_filter=0`, `net.ipv4.conf.${IF2}.rp_filter=0`]) {
      run('ip', ['netns', 'exec', NS, 'sysctl', '-qw', k]);
    }
    const base = await pingFromB([IP1, IP2]);
    const env = (extra = {}) => ({ DIRECTION: 'ingress', NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '600', MEASURE_EFFECT: 'false', DEADMAN: 'off', ...extra });
    const start = async (dev, extra) => {
      const h = spawnCli(['inject', '--netns', `/run/netns/${NS}`, '--interface', dev], env(extra));
      runs.push(h);
      const ms = await waitFor(() => h.exited !== null || redirectOf(NS, dev) !== null, 60000);
      check(h.exited === null && ms !== null, `the ingress fault on ${dev} never appeared`, { exited: h.exited && { code: h.exited.code, stderr: tail(h.exited.stderr) } });
      return h;
    };
    const a = await start(IF1);
    const b = await start(IF2);
    const names = ifbs(NS);
    const both = added(base, await pingFromB([IP1, IP2]));
    show(t, 'both active', { ifbs: names, redirects: { [IF1]: redirectOf(NS, IF1), [IF2]: redirectOf(NS, IF2) }, addedMs: both });
    check(names.length === 2 && names[0] !== names[1], 'two interfaces with a common 8-char prefix get two ifb devices', { names });
    check(redirectOf(NS, IF1) !== redirectOf(NS, IF2), 'each redirect points to its own ifb', {});
    check(both[IP1] >= LAT * 0.8 && both[IP2] >= LAT * 0.8, `both interfaces delay B's packets by ~${LAT} ms`, both);

    // A manual revert of the first interface while both runs are active.
    const rv = cli(['revert', '--netns', `/run/netns/${NS}`, '--interface', IF1]);
    const afterRevert = added(base, await pingFromB([IP1, IP2]));
    show(t, `after netchaos revert --interface ${IF1}`, { code: rv.code, ifbs: ifbs(NS), redirect2: redirectOf(NS, IF2), addedMs: afterRevert, stderr: tail(rv.stderr, 300) });
    check(rv.code === 0, 'the revert succeeds', { stderr: tail(rv.stderr) });
    check(redirectOf(NS, IF1) === null, `nothing of ours is left on ${IF1}'s ingress`, {});
    check(ifbs(NS).length === 1 && redirectOf(NS, IF2) === ifbs(NS)[0], `${IF2}'s ifb and its redirect are intact`, { ifbs: ifbs(NS), redirect: redirectOf(NS, IF2) });
    check(afterRevert[IP1] < UNTOUCHED_MS, `${IF1} is back to normal`, afterRevert);
    check(afterRevert[IP2] >= LAT * 0.8, `${IF2} still delays B by ~${LAT} ms`, afterRevert);
    const ra = await a.stop('SIGTERM');
    check(ra.code === 143, 'the first run, whose tree was removed under it, still ends cleanly on SIGTERM', { code: ra.code, stderr: tail(ra.stderr) });
    check(redirectOf(NS, IF2) !== null && ifbs(NS).length === 1, `the first run's own revert did not touch ${IF2}`, { ifbs: ifbs(NS) });

    // A killed run on the first interface, expired: `netchaos sweep` removes it and leaves the live one.
    const c = await start(IF1, { TOTAL_CHAOS_DURATION: '2', DEADMAN_GRACE: '1' });
    const m = marker(NS, ifbs(NS).find((n) => n === redirectOf(NS, IF1)));
    await c.stop('SIGKILL');
    await waitFor(() => Date.now() > (m?.deadlineS ?? 0) * 1000 + 500, 30000);
    const sw = cli(['sweep']);
    const afterSweep = added(base, await pingFromB([IP1, IP2]));
    show(t, 'after netchaos sweep', { code: sw.code, ifbs: ifbs(NS), addedMs: afterSweep, out: tail(sw.stdout, 600) });
    check(m !== null, 'the killed run\'s tree carries its marker (on its ifb)', {});
    check(sw.code === 0, 'the sweep succeeds', { stdout: tail(sw.stdout), stderr: tail(sw.stderr) });
    check(redirectOf(NS, IF1) === null && ifbs(NS).length === 1 && redirectOf(NS, IF2) === ifbs(NS)[0], `the expired run on ${IF1} is gone; ${IF2}'s ifb and redirect are intact`, { ifbs: ifbs(NS) });
    check(afterSweep[IP1] < UNTOUCHED_MS && afterSweep[IP2] >= LAT * 0.8, `${IF1} normal, ${IF2} still delayed`, afterSweep);
    const rb = await b.stop('SIGTERM');
    check(rb.code === 143 && ifbs(NS).length === 0 && redirectOf(NS, IF2) === null, 'the second run reverts all of its own at its end', { code: rb.code, ifbs: ifbs(NS), stderr: tail(rb.stderr) });
  } finally {
    for (const h of runs) await h.stop('SIGKILL', 2000);
    run('ip', ['netns', 'del', NS]);
    run('ip', ['link', 'del', 'so1']);
    run('ip', ['link', 'del', 'so2']);
  }
});

// ---------------------------------------------------------------------------
test('71. the target process exits while a pause process keeps its namespace: the tree is found by inode and removed, the dead-man cancelled after', async (t) => {
  // The "pod": a pause process holding a namespace, and the target process in the same namespace.
  const pause = spawn('unshare', ['-n', 'sleep', 'infinity'], { stdio: 'ignore', detached: true });
  await sleep(300);
  const nsPath = `/proc/${pause.pid}/ns/net`;
  let target;
  let h;
  try {
    for (const args of [
      ['link', 'add', 'vp71', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pause.pid)],
      ['link', 'set', 'vp71', 'master', 'br0', 'up'],
    ]) mustIp(args);
    for (const args of [['addr', 'add', '192.0.2.71/24', 'dev', 'eth0'], ['link', 'set', 'eth0', 'up'], ['link', 'set', 'lo', 'up']]) {
      assert.equal(run('nsenter', [`--net=${nsPath}`, 'ip', ...args]).code, 0);
    }
    target = spawn('nsenter', [`--net=${nsPath}`, 'sleep', 'infinity'], { stdio: 'ignore', detached: true });
    await sleep(300);
    const tpid = target.pid;
    h = spawnCli(['inject', '--pid', String(tpid)], { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '600', MEASURE_EFFECT: 'false', DEADMAN: 'process' });
    const applied = await waitFor(() => h.exited !== null || rootOf(pause.pid, 'eth0')?.handle === '4e43:', 60000);
    check(h.exited === null && applied !== null, 'our tree never appeared', { exited: h.exited && tail(h.exited.stderr) });
    const m = marker(pause.pid, 'eth0');
    const t0 = Date.now();
    target.kill('SIGKILL');
    const r = await Promise.race([h.done, deadline(30000).then(() => null)]);
    const ms = Date.now() - t0;
    const root = rootOf(pause.pid, 'eth0');
    const watchdogs = run('pgrep', ['-f', `watchdog --run-id ${m?.runId ?? 'none'}`]).stdout.trim();
    show(t, 'after the target process exit', { code: r?.code, ms, rootAfter: root, watchdogsLeft: watchdogs, stderr: tail(r?.stderr, 500) });
    check(r !== null, 'the run ends within 30 s of the target exiting', { ms });
    check(r.code === 4, 'exit 4: the target went away', { stderr: tail(r.stderr) });
    check(root?.handle !== '4e43:', 'our tree is removed from the namespace the pause process keeps', { root, stderr: tail(r.stderr) });
    check(/lived on: the tree was removed from it/.test(r.stderr) || /lives on in pid/.test(r.stderr), 'the message says where the tree was removed', { stderr: tail(r.stderr) });
    check(watchdogs === '', 'the dead-man is cancelled once the tree is removed', { watchdogs });
  } finally {
    if (h) await h.stop('SIGKILL', 2000);
    target?.kill('SIGKILL');
    try { process.kill(pause.pid, 'SIGKILL'); } catch { /* gone */ }
    run('ip', ['link', 'del', 'vp71']);
  }
});

// ---------------------------------------------------------------------------
test('72. two injects at once on one namespace: the run whose batch failed removes nothing of the other run\'s tree', async (t) => {
  const holder = spawn('unshare', ['-n', 'sleep', 'infinity'], { stdio: 'ignore', detached: true });
  await sleep(300);
  const pid = holder.pid;
  const nsPath = `/proc/${pid}/ns/net`;
  const runs = [];
  try {
    mustIp(['link', 'add', 'vp72', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)]);
    mustIp(['link', 'set', 'vp72', 'master', 'br0', 'up']);
    for (const args of [['addr', 'add', '192.0.2.72/24', 'dev', 'eth0'], ['link', 'set', 'eth0', 'up'], ['link', 'set', 'lo', 'up']]) {
      assert.equal(run('nsenter', [`--net=${nsPath}`, 'ip', ...args]).code, 0);
    }
    const env = { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '600', DEADMAN: 'off' };
    // The second run passes its preflight, then measures its effect baseline; meanwhile the first run applies.
    const second = spawnCli(['inject', '--pid', String(pid)], { ...env, MEASURE_EFFECT: 'true' });
    runs.push(second);
    const preflightMs = await waitFor(() => /preflight ok/.test(second.out.stderr) || second.exited !== null, 60000);
    const first = spawnCli(['inject', '--pid', String(pid)], { ...env, MEASURE_EFFECT: 'false' });
    runs.push(first);
    await waitFor(() => rootOf(pid, 'eth0')?.handle === '4e43:' || (first.exited !== null && second.exited !== null), 60000);
    // One of them lost: it ends on its own (batch failure or preflight refusal).
    const lost = await Promise.race([first.done.then((r) => ({ who: 'first', r })), second.done.then((r) => ({ who: 'second', r })), deadline(90000).then(() => null)]);
    check(lost !== null, 'one of the two runs ends on its own within 90 s', { first: tail(first.out.stderr), second: tail(second.out.stderr) });
    const winner = lost.who === 'first' ? second : first;
    const m = marker(pid, 'eth0');
    const rtt = (await probePing([B.v4], { count: 20, interval: 0.02, pid }))[B.v4]?.rtt?.median ?? null;
    const how = /tc rejected line 1 of the batch/.test(lost.r.stderr) ? 'batch failed at its first line' : /already on eth0/.test(lost.r.stderr) ? 'refused by preflight' : 'other';
    show(t, 'the two runs', { preflightMs, loser: lost.who, loserExit: lost.r.code, how, treeAfter: rootOf(pid, 'eth0'), marker: m, rttToB: rtt, loserStderr: tail(lost.r.stderr, 400) });
    check(winner.exited === null, 'the other run is still running', {});
    check(rootOf(pid, 'eth0')?.handle === '4e43:' && m !== null, 'the surviving run\'s tree is still there, with its marker', { root: rootOf(pid, 'eth0') });
    check(lost.r.code === 1 || lost.r.code === 5, 'the losing run fails (exit 1: its batch; 5: refused)', { code: lost.r.code, stderr: tail(lost.r.stderr) });
    check(rtt !== null && rtt >= LAT * 0.8, `the surviving tree still delays B by ~${LAT} ms`, { rtt });
    const w = await winner.stop('SIGTERM');
    check(w.code === 143 && rootOf(pid, 'eth0')?.handle !== '4e43:', 'the surviving run reverts its tree at its end', { code: w.code, stderr: tail(w.stderr) });
  } finally {
    for (const h of runs) await h.stop('SIGKILL', 2000);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    run('ip', ['link', 'del', 'vp72']);
  }
});
