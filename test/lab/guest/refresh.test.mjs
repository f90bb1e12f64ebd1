// DEPENDENCY_REFRESH in the real kernel: a DNS name that moves mid-run. Runs INSIDE the lab VM only
// (test/lab/test.sh runs it after lab.test.mjs; alone: test/lab/test.sh --test-name-pattern='^R')
//
//   dnsmasq in the VM's root namespace, on 192.0.2.1 (an address on br0, so both the runner and `app` reach it),
//   answers b.lab.test from a hosts file that the test rewrites and SIGHUPs, with a 1 s TTL (--local-ttl).
//   The target is a process in `app` with its OWN mount namespace, where /etc/resolv.conf is a bind mount
//   naming that server: /proc/<pid>/root/etc/resolv.conf is then what netchaos reads, as for a container
//   (the VM shares the host's /, so without it the target's resolv.conf would be the host's).
//   dep-b gets a second address 198.51.100.11 (app routes 198.51.100.0/24 on its eth0).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import path from 'node:path';
import {
  DEPS, OUT, CLI, ensureLab, cliExists, tcState, tc, run, mustRun, probePing, startInject, cli, hasOurTree, resetApp, sleep, check, show, addedPing,
  UNTOUCHED_MS, bigList, filterRecords, distinctHandles,
  APP,
} from './lib.mjs';

const B = DEPS.B;
const C = DEPS.C;
const X = B.v4; // 192.0.2.11: b.lab.test before the switch
const Y = '198.51.100.11'; // dep-b's second address: b.lab.test after the switch
const B6 = B.v6; // b.lab.test's AAAA, the same before and after
const DNS = '192.0.2.1';
const LAT = 100;
const NET_LAT = 30; // FAULTS latency=30@198.51.100.0/24: Y gets it before the switch, and must get B's 100 after
const INTERVAL_S = 3;
const RTT = { count: 50, interval: 0.02 };
const HOSTS = path.join(OUT, 'refresh-hosts');
const RESOLV = path.join(OUT, 'refresh-resolv.conf');
/** tc prints u32 address matches as hex words. */
const hex4 = (a) => a.split('.').map((n) => Number(n).toString(16).padStart(2, '0')).join('');

let dnsmasq;
let targetProc;
let PID;

const filters = () => tc(APP.ns, ['filter', 'show', 'dev', 'eth0']).stdout;

async function resolves(name, want) {
  const r = new Resolver({ timeout: 500, tries: 1 });
  r.setServers([DNS]);
  for (let i = 0; i < 100; i++) {
    try { if ((await r.resolve4(name)).includes(want)) return true; } catch { /* not up yet */ }
    await sleep(100);
  }
  return false;
}

before(async () => {
  assert.ok(cliExists(), `${CLI} is missing`);
  ensureLab();
  mustRun('ip', ['addr', 'add', `${DNS}/24`, 'dev', 'br0']);
  mustRun('ip', ['-n', B.ns, 'addr', 'add', `${Y}/24`, 'dev', 'eth0']);
  mustRun('ip', ['-n', APP.ns, 'route', 'add', '198.51.100.0/24', 'dev', 'eth0']);
  writeFileSync(HOSTS, `${X} b.lab.test\n${B6} b.lab.test\n`);
  writeFileSync(RESOLV, `nameserver ${DNS}\nsearch lab.test\noptions timeout:1 attempts:2\n`);
  dnsmasq = spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${HOSTS}`,
    '--local-ttl=1', '--bind-interfaces', `--listen-address=${DNS}`, '--port=53', '--user=root', '--pid-file=', '--log-queries',
    `--log-facility=${path.join(OUT, 'dnsmasq.log')}`], { stdio: 'ignore' });
  // The target: a process in app whose mount namespace has its own /etc/resolv.conf (as a container's has).
  targetProc = spawn('ip', ['netns', 'exec', APP.ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
    'mount --bind "$1" /etc/resolv.conf && exec sleep infinity', 'sh', RESOLV], { stdio: 'ignore', detached: true });
  PID = targetProc.pid;
  for (let i = 0; i < 100; i++) {
    try {
      if (readFileSync(`/proc/${PID}/root/etc/resolv.conf`, 'utf8').includes(DNS) && readFileSync(`/proc/${PID}/comm`, 'utf8').trim() === 'sleep') break;
    } catch { /* not yet */ }
    await sleep(100);
  }
  assert.match(readFileSync(`/proc/${PID}/root/etc/resolv.conf`, 'utf8'), /nameserver 192\.0\.2\.1/, 'the target sees its own resolv.conf');
  assert.ok(!readFileSync('/etc/resolv.conf', 'utf8').includes(DNS), 'the host\'s resolv.conf is untouched');
  assert.ok(await resolves('b.lab.test', X), 'dnsmasq answers b.lab.test');
});

after(() => {
  try { process.kill(-targetProc.pid, 'SIGKILL'); } catch { /* gone */ }
  dnsmasq?.kill('SIGTERM');
  run('ip', ['-n', APP.ns, 'route', 'del', '198.51.100.0/24', 'dev', 'eth0']);
  run('ip', ['-n', B.ns, 'addr', 'del', `${Y}/24`, 'dev', 'eth0']);
  run('ip', ['addr', 'del', `${DNS}/24`, 'dev', 'br0']);
  if (hasOurTree(APP.ns)) resetApp(APP.ns);
});

const ENV = {
  DESTINATION_HOSTS: 'b.lab.test', NETWORK_LATENCY: String(LAT), FAULTS: `latency=${NET_LAT}@198.51.100.0/24`,
  DEPENDENCY_REFRESH_INTERVAL: String(INTERVAL_S), TOTAL_CHAOS_DURATION: '600',
};

test('R1. plan shows what is refreshed and how often (TTL 1 s → every 3 s, the interval)', () => {
  const r = cli(['plan', '--pid', String(PID)], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Live dependencies \\(DEPENDENCY_REFRESH, interval ${INTERVAL_S}s`));
  assert.match(r.stdout, /host b\.lab\.test: A and AAAA with the nameservers of \/proc\/\d+\/root\/etc\/resolv\.conf, when the TTL runs out \(now 1s, kept within 3–3s\): every 3s/);
});

test(`R2. b.lab.test moves from X=${X} to Y=${Y} mid-run: Y delayed within one refresh interval, X no longer, C never, B's IPv6 filter untouched`, async (t) => {
  const targets = [X, Y, C.v4, B6];
  const base = await probePing(targets, RTT);
  const before0 = tcState(APP.ns);
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { env: ENV });
    check(h.applied, 'our tree never appeared', h.output);
    check(await h.whole(), 'the run must report its tree injected within 60 s', h.output.stderr.slice(-800));
    const f1 = filters();
    const v6Before = tc(APP.ns, ['filter', 'show', 'dev', 'eth0', 'protocol', 'ipv6']).stdout;
    const during1 = addedPing(base, await probePing(targets, RTT));
    show(t, 'phase 1 (b.lab.test = X): added ms', during1);

    writeFileSync(HOSTS, `${Y} b.lab.test\n${B6} b.lab.test\n`);
    dnsmasq.kill('SIGHUP');
    const t0 = Date.now();
    let switchMs;
    while (Date.now() - t0 < 30_000) {
      const f = filters();
      if (f.includes(hex4(Y)) && !f.includes(hex4(X))) { switchMs = Date.now() - t0; break; }
      await sleep(100);
    }
    show(t, 'SIGHUP → Y\'s filter in place, X\'s gone (ms)', switchMs ?? 'never');
    const f2 = filters();
    const v6After = tc(APP.ns, ['filter', 'show', 'dev', 'eth0', 'protocol', 'ipv6']).stdout;
    const during2 = addedPing(base, await probePing(targets, RTT));
    show(t, 'phase 2 (b.lab.test = Y): added ms', during2);
    const r = await h.stop('SIGTERM');
    const log = r.stderr.split('\n').filter((l) => /dependency|filters updated|REFRESH/.test(l));
    show(t, 'refresh log lines', log.map((l) => { try { const j = JSON.parse(l); return j.msg; } catch { return l; } }));

    check(Math.abs(during1[X] - LAT) <= LAT * 0.1, `phase 1: X must get ${LAT} ms ± 10 %`, during1);
    check(Math.abs(during1[Y] - NET_LAT) <= NET_LAT * 0.15 + 1, `phase 1: Y (not yet B) gets the /24's ${NET_LAT} ms`, during1);
    check(Math.abs(during1[B6] - LAT) <= LAT * 0.1, `phase 1: B's IPv6 must get ${LAT} ms`, during1);
    // Measured: 0.56-3.4 s in full runs (2026-12-01), 7.9 s once at host load ~6; the bound is twice the busiest,
    // still far below the 600 s duration (a switch that only the run's end made would never pass).
    check(switchMs !== undefined && switchMs <= (INTERVAL_S + 1) * 1000 + 12_000, `the switch must be applied within one refresh interval (${INTERVAL_S} s, + 1 s check step + 12 s exec slack under emulation on a busy host)`, { switchMs });
    check(Math.abs(during2[Y] - LAT) <= LAT * 0.1, `phase 2: Y must get B's ${LAT} ms (its /32 ahead of the /24)`, during2);
    check(during2[X] < UNTOUCHED_MS, `phase 2: X must no longer be delayed (< ${UNTOUCHED_MS} ms)`, during2);
    check(Math.abs(during2[B6] - LAT) <= LAT * 0.1, `phase 2: B's IPv6 must still get ${LAT} ms`, during2);
    check(during1[C.v4] < UNTOUCHED_MS && during2[C.v4] < UNTOUCHED_MS, `C is never touched (< ${UNTOUCHED_MS} ms in both phases)`, { during1, during2 });
    check(![f1, f2].some((f) => f.includes(hex4(C.v4))), 'no filter ever matches C', { f1, f2 });
    assert.equal(v6After, v6Before, 'the IPv6 filters (B6, unchanged) are not touched by the refresh');
    check(log.some((l) => l.includes(`dependency host b.lab.test moved: added ${Y}, removed ${X}`)), 'the change is logged with its dependency', log);
    check(r.code === 143, 'SIGTERM → 143', { code: r.code, stderr: r.stderr.slice(-600) });
    assert.deepEqual(tcState(APP.ns), before0, 'state after must equal state before');
  } finally {
    if (h) await h.stop('SIGKILL', 5000);
    if (hasOurTree(APP.ns)) resetApp(APP.ns);
  }
});

// R2 in a tree with two hash levels: more than 1,024 hashed entries per family (a list of 2,100 beside b.lab.test).
// X (192.0.2.11) sits in the level-2 table of its last byte (10b:), bucket 2 (the byte before); Y (198.51.100.11)
// must land in the same table's bucket 64 (100), with the tables and their links as they were.
test(`R3. b.lab.test moves from X to Y in a two-level tree (2,100 more destinations): Y's entry in 10b:64:, X's gone from 10b:2:, Y delayed, X and C not`, async (t) => {
  writeFileSync(HOSTS, `${X} b.lab.test\n${B6} b.lab.test\n`);
  dnsmasq.kill('SIGHUP');
  assert.ok(await resolves('b.lab.test', X), 'dnsmasq answers X again');
  const file = path.join(OUT, 'refresh-two-level.txt');
  writeFileSync(file, `${bigList(2100).join('\n')}\n`);
  const targets = [X, Y, C.v4];
  const base = await probePing(targets, RTT);
  const before0 = tcState(APP.ns);
  const records = () => filterRecords(APP.ns, 'eth0');
  /** Some node of bucket `fh` matches `addr`. */
  const entryAt = (rs, fh, addr) => rs.some((r) => r.includes(` fh ${fh}`) && r.includes(`match ${hex4(addr)}/ffffffff at 16`));
  const counts = (rs) => ({ entries: distinctHandles(rs, /flowid/), links: distinctHandles(rs, / link /) });
  const ENTRIES = 2100 + 3; // the list, X, B's IPv6 and the FAULTS /24
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { env: { ...ENV, DESTINATION_IPS_FILE: file }, timeoutMs: 120_000 });
    check(h.applied, 'our tree never appeared', h.output);
    // The root appears with the batch's first lines, long before its last: a dump taken while the batch still
    // creates tables resumes by position in a list that grows at its head, so it can miss links and repeat entries
    // (CI, 2026-12-02: all 2,103 entries seen, 359 of 515 links). Read the tree once the run says its batch is in.
    check(await h.whole(), 'the run must report its tree injected within 60 s', h.output.stderr.slice(-800));
    const r1 = records();
    const c1 = counts(r1);
    show(t, 'phase 1 (b.lab.test = X): filters', c1);
    check(c1.entries === ENTRIES, `phase 1: all ${ENTRIES} entries in the kernel`, c1);
    check(entryAt(r1, '10b:2:', X), 'phase 1: X\'s entry must be in the level-2 table 10b:, bucket 2', r1.filter((r) => r.includes('fh 10b:')).slice(0, 5));

    writeFileSync(HOSTS, `${Y} b.lab.test\n${B6} b.lab.test\n`);
    dnsmasq.kill('SIGHUP');
    const t0 = Date.now();
    let switchMs;
    let r2 = r1;
    while (Date.now() - t0 < 30_000) {
      r2 = records();
      if (entryAt(r2, '10b:64:', Y) && !r2.some((r) => r.includes(`match ${hex4(X)}/`))) { switchMs = Date.now() - t0; break; }
      await sleep(100);
    }
    const c2 = counts(r2);
    show(t, 'SIGHUP → Y in 10b:64:, X gone (ms)', switchMs ?? 'never');
    show(t, 'phase 2 (b.lab.test = Y): filters', c2);
    const during = addedPing(base, await probePing(targets, RTT));
    show(t, 'phase 2: added ms', during);
    const r = await h.stop('SIGTERM', 60_000);
    // As R2's: measured 0.56-3.4 s there (one-level), 7.9 s once at host load ~6.
    check(switchMs !== undefined && switchMs <= (INTERVAL_S + 1) * 1000 + 12_000, 'the switch must be applied within one refresh interval (+ 1 s check step + 12 s exec slack)', { switchMs });
    check(c2.entries === c1.entries && c2.links === c1.links, 'the refresh swaps one entry: as many entries and links as before (the tables and their links stay)', { c1, c2 });
    check(Math.abs(during[Y] - LAT) <= LAT * 0.1, `phase 2: Y must get B's ${LAT} ms`, during);
    check(during[X] < UNTOUCHED_MS && during[C.v4] < UNTOUCHED_MS, `phase 2: X and C must not be delayed (< ${UNTOUCHED_MS} ms)`, during);
    check(r.code === 143, 'SIGTERM → 143', { code: r.code, stderr: r.stderr.slice(-600) });
    assert.deepEqual(tcState(APP.ns), before0, 'state after must equal state before');
  } finally {
    if (h) await h.stop('SIGKILL', 5000);
    if (hasOurTree(APP.ns)) resetApp(APP.ns);
  }
});
