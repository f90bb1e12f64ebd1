/** Live dependencies: node ids, the diff planner, and the refresh loop (fake clock, fake DNS, fake namespace). */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { type DestinationItem, parseCidr } from '../../src/model/addresses.ts';
import type { DnsRecord, Resolver } from '../../src/ports.ts';
import { plan, type Plan } from '../../src/tc/plan.ts';
import { diffPlan, undoLines } from '../../src/tc/diff.ts';
import { NoRoomError, assignNodeIds, conflicts } from '../../src/tc/handles.ts';
import { liveRefresh } from '../../src/lifecycle/refresh.ts';
import { inject } from '../../src/lifecycle/inject.ts';
import { type LifecycleEvent, formatEvent } from '../../src/lifecycle/events.ts';
import { describeRefresh, liveSources, refreshDelayMs, refreshSchedule } from '../../src/resolve/live.ts';
import { describeResolved, discover } from '../../src/resolve/destinations.ts';
import { type Env, specOf as spec } from '../support/spec.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { FakeClock, fakeDeps } from '../support/fake-ports.ts';
import { Tree } from '../support/u32sim.ts';
const items = (...addrs: string[]): DestinationItem[] => addrs.map((a) => ({ cidr: parseCidr('test', a), ports: [] }));
const facts = (...addrs: string[]) => ({ discovered: [items(...addrs), []] });
const cidr = (a: string) => parseCidr('test', a);

describe('u32 node ids', () => {
  test('fresh: 1, 2, 3 without refresh; evenly spread (room for new entries) with it', () => {
    const m = [{ cidr: cidr('192.0.2.11'), dport: undefined, sport: undefined, band: 4 }, { cidr: cidr('192.0.2.0/24'), dport: undefined, sport: undefined, band: 5 }];
    assert.deepEqual(assignNodeIds(m, () => undefined, false), [1, 2]);
    assert.deepEqual(assignNodeIds(m, () => undefined, true), [256, 512]);
  });
  test('only entries that overlap AND go to different bands constrain the order', () => {
    const a = { cidr: cidr('192.0.2.11'), dport: undefined, sport: undefined, band: 4 };
    assert.equal(conflicts(a, { cidr: cidr('192.0.2.0/24'), dport: undefined, sport: undefined, band: 5 }), true);
    assert.equal(conflicts(a, { cidr: cidr('192.0.2.0/24'), dport: undefined, sport: undefined, band: 4 }), false, 'same band: order does not matter');
    assert.equal(conflicts(a, { cidr: cidr('192.0.2.12'), dport: undefined, sport: undefined, band: 5 }), false, 'disjoint');
    assert.equal(conflicts({ ...a, dport: 80 }, { ...a, dport: 443, band: 2 }), false, 'different ports');
    assert.equal(conflicts({ ...a, dport: 9090, band: 2 }, a), true, 'an exclusion and its address');
  });
  test('a new entry takes a free id between those it must follow and precede; no room is an error', () => {
    const b = { cidr: cidr('192.0.2.13'), dport: undefined, sport: undefined, band: 4 };
    const net = { cidr: cidr('192.0.2.0/24'), dport: undefined, sport: undefined, band: 5 };
    const kept = [undefined, 512];
    const [id] = assignNodeIds([b, net], (i) => kept[i], true);
    assert.ok(id! > 0 && id! < 512, `${id} must precede the /24 at 512`);
    assert.throws(() => assignNodeIds([b, net], (i) => [undefined, 1][i], false), NoRoomError);
  });
});

describe('diffPlan', () => {
  const s = spec({ DESTINATION_HOSTS: 'b.lab.test', NETWORK_LATENCY: '100', FAULTS: 'latency=30@198.51.100.0/24', DEPENDENCY_REFRESH_INTERVAL: '3' });

  test('B\'s name moves from 192.0.2.11 to 198.51.100.11 (inside another group\'s /24): delete X by handle, add Y before the /24; v6 untouched', () => {
    const old = plan(s, facts('192.0.2.11', '2001:db8::11'));
    const next = plan(s, facts('198.51.100.11', '2001:db8::11'), { previous: old });
    const d = diffPlan(old, next);
    assert.deepEqual(d.lines, [
      'filter del dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:100 u32',
      'filter add dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:100 u32 ht 10:0: match ip dst 198.51.100.11/32 flowid 4e43:4',
    ]);
    assert.deepEqual([d.added, d.deleted], [1, 1]);
    assert.deepEqual(old.entries.find((e) => e.family === 6)?.handles, next.entries.find((e) => e.family === 6)?.handles, 'B\'s IPv6 entry keeps its handle');
    const t = new Tree(old.apply);
    assert.equal(t.classify({ dst: '192.0.2.11' }), 4);
    assert.equal(t.classify({ dst: '198.51.100.11' }), 5, 'before: Y gets the /24\'s fault');
    t.apply(d.lines);
    assert.equal(t.classify({ dst: '192.0.2.11' }), 'priomap', 'X no longer delayed');
    assert.equal(t.classify({ dst: '198.51.100.11' }), 4, 'Y gets B\'s fault, ahead of the /24');
    assert.equal(t.classify({ dst: '198.51.100.12' }), 5);
    assert.equal(t.classify({ dst: '192.0.2.12' }), 'priomap', 'C never touched');
    assert.equal(t.classify({ dst: '2001:db8::11' }), 4);
    assert.deepEqual(new Tree(next.apply).sizes(), t.sizes(), 'the diffed tree equals the refreshed plan built from scratch');
  });

  test('a second address is added while the first stays: only one add, between the kept entries', () => {
    const old = plan(s, facts('192.0.2.11'));
    const next = plan(s, facts('192.0.2.11', '198.51.100.11'), { previous: old });
    const d = diffPlan(old, next);
    assert.equal(d.lines.length, 1);
    assert.match(d.lines[0]!, /^filter add dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:[0-9a-f]+ u32 ht 10:0: match ip dst 198\.51\.100\.11\/32 flowid 4e43:4$/);
    const t = new Tree(old.apply);
    t.apply(d.lines);
    assert.equal(t.classify({ dst: '198.51.100.11' }), 4);
    assert.equal(t.classify({ dst: '192.0.2.11' }), 4);
  });

  test('an address family appears: its table and link are created, then the entry', () => {
    const old = plan(s, facts('192.0.2.11'));
    const next = plan(s, facts('192.0.2.11', '2001:db8::11'), { previous: old });
    assert.deepEqual(diffPlan(old, next).lines, [
      'filter add dev eth0 parent 4e43: protocol ipv6 prio 2 handle 20: u32 divisor 1',
      'filter add dev eth0 parent 4e43: protocol ipv6 prio 2 u32 match u32 0 0 link 20:',
      'filter add dev eth0 parent 4e43: protocol ipv6 prio 2 handle 20:0:100 u32 ht 20:0: match ip6 dst 2001:db8::11/128 flowid 4e43:4',
    ]);
    // …and when it goes again, its (empty) table stays, so that it can come back.
    const gone = plan(s, facts('192.0.2.11'), { previous: next });
    assert.deepEqual(diffPlan(next, gone).lines, ['filter del dev eth0 parent 4e43: protocol ipv6 prio 2 handle 20:0:100 u32']);
    assert.ok(gone.tables.some((t) => t.htid === '20:'));
    const back = plan(s, facts('192.0.2.11', '2001:db8::12'), { previous: gone });
    assert.deepEqual(diffPlan(gone, back).lines, ['filter add dev eth0 parent 4e43: protocol ipv6 prio 2 handle 20:0:100 u32 ht 20:0: match ip6 dst 2001:db8::12/128 flowid 4e43:4']);
  });

  test('crossing the hash threshold keeps the linear layout for the run (no second table linked after the first)', () => {
    const many = Array.from({ length: 40 }, (_, i) => `203.0.113.${i + 1}`);
    const old = plan(s, facts('192.0.2.11'));
    const next = plan(s, facts('192.0.2.11', ...many), { previous: old });
    assert.deepEqual(next.tables.map((t) => `${t.htid} ${t.kind}`), ['10: linear']);
    assert.equal(plan(s, facts('192.0.2.11', ...many)).tables[0]?.kind, 'hash', 'a fresh plan would hash them');
    const d = diffPlan(old, next);
    assert.equal(d.added, 40);
    const t = new Tree(old.apply);
    t.apply(d.lines);
    for (const a of many) assert.equal(t.classify({ dst: a }), 4);
  });

  describe('two hash levels', () => {
    const v4 = (n: number, third = 0): string[] => Array.from({ length: n }, (_, i) => `203.0.${third + (i >> 8)}.${i & 0xff}`);
    const entryOnly = /^filter (add|del) dev eth0 parent 4e43: protocol ip prio 1 handle 1[0-9a-f]{2}:[0-9a-f]+:[0-9a-f]+ u32( ht 1[0-9a-f]{2}:[0-9a-f]+: match ip dst \S+ flowid 4e43:[45])?$/;

    test('adding and removing addresses in a two-level tree touches only entry nodes in the level-2 tables; the layout stays', () => {
      const old = plan(s, facts('192.0.2.11', ...v4(40)), { hash2MinEntries: 16 });
      assert.equal(old.tables.filter((t) => t.level === 2).length, 256);
      const next = plan(s, facts('192.0.2.11', '192.0.3.11', ...v4(30), ...v4(5, 9)), { previous: old });
      const d = diffPlan(old, next);
      for (const l of d.lines) assert.match(l, entryOnly);
      assert.deepEqual([d.added, d.deleted, d.newTables.length], [6, 10, 0]);
      assert.deepEqual(next.tables, old.tables.map((t) => (t.level === 2 ? { ...t, nodes: next.tables.find((x) => x.htid === t.htid)?.nodes ?? -1 } : t)), 'the same tables');
      const t = new Tree(old.apply);
      t.apply(d.lines);
      assert.deepEqual(t.sizes(), new Tree(next.apply).sizes(), 'the diffed tree equals the refreshed plan built from scratch');
      assert.equal(t.classify({ dst: '192.0.3.11' }), 4, 'new: B\'s neighbour (same last byte, another byte before)');
      assert.equal(t.classify({ dst: '192.0.2.11' }), 4);
      assert.equal(t.classify({ dst: '203.0.0.35' }), 'priomap', 'removed');
      assert.equal(t.classify({ dst: '203.0.9.4' }), 4, 'added');
      assert.equal(t.classify({ dst: '198.51.100.11' }), 5, 'the /24 of the other group (linear) still after the hash');
      assert.equal(t.classify({ dst: '192.0.2.12' }), 'priomap', 'C');
      // Even a fresh plan with as few addresses keeps the two levels once they are live.
      const few = plan(s, facts('192.0.2.11'), { previous: next });
      assert.equal(few.tables.filter((x) => x.level === 1).length, 1);
      for (const l of diffPlan(next, few).lines) assert.match(l, entryOnly);
    });

    test('a family whose two-level layout appears mid-run: its tables first, the level-1 links, the root link last, then the entries', () => {
      // IPv4 is live (linear: the other group's /24) and stays so; IPv6 comes with 40 addresses.
      const v6 = Array.from({ length: 40 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
      const old = plan(s, facts('192.0.2.11'), { hash2MinEntries: 16 });
      const next = plan(s, facts('192.0.2.11', ...v6), { previous: old, hash2MinEntries: 16 });
      const d = diffPlan(old, next);
      assert.equal(d.newTables.length, 257);
      assert.equal(d.added, 40, 'the links are not counted as entries');
      const kinds = d.lines.map((l) => (l.endsWith(' u32 divisor 256') ? 'table' : / ht 21:[0-9a-f]+: .* link 2[0-9a-f]{2}:$/.test(l) ? 'level-1 link' : / link 21:$/.test(l) ? 'root link' : 'entry'));
      const runs = kinds.filter((k, i) => k !== kinds[i - 1]);
      assert.deepEqual(runs, ['table', 'level-1 link', 'root link', 'entry']);
      assert.equal(d.undo.filter((u) => u === undefined).length, 257 + 256 + 1, 'tables and links stay when a batch is rolled back');
      assert.deepEqual(formatEvent({ kind: 'refresh-applied', added: d.added, deleted: d.deleted, tables: d.newTables.map((x) => x.htid), applyMs: 5, batch: [] }),
        ['info', 'filters updated: 40 added, 0 deleted, tables 21: 200:…2ff: (257) created in 5 ms']);
      const t = new Tree(old.apply);
      t.apply(d.lines);
      assert.equal(t.classify({ dst: '2001:db8::7' }), 4);
      assert.equal(t.classify({ dst: '2001:db8::107' }), 'priomap', 'same last byte, another byte before');
      assert.equal(t.classify({ dst: '192.0.2.11' }), 4);
      assert.deepEqual(next.tables.filter((x) => x.family === 4).map((x) => `${x.htid} ${x.kind}`), ['10: linear'], 'IPv4 keeps its live layout');
    });
  });

  test('port exclusions of a new address land before its fault entry', () => {
    const ex = spec({ DESTINATION_HOSTS: 'b.lab.test', DESTINATION_PORTS: '!9090', DEPENDENCY_REFRESH_INTERVAL: '3' });
    const old = plan(ex, facts('192.0.2.11'));
    const next = plan(ex, facts('192.0.2.13'), { previous: old });
    const t = new Tree(old.apply);
    t.apply(diffPlan(old, next).lines);
    assert.equal(t.classify({ dst: '192.0.2.13', dport: 9090 }), 2);
    assert.equal(t.classify({ dst: '192.0.2.13', dport: 8080 }), 4);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 8080 }), 'priomap');
  });

  test('undo: the inverse of the lines that ran, last first', () => {
    const old = plan(s, facts('192.0.2.11'));
    const d = diffPlan(old, plan(s, facts('192.0.2.13'), { previous: old }));
    assert.deepEqual(undoLines(d, 1), [old.apply.find((l) => l.includes('192.0.2.11/32'))]);
    assert.deepEqual(undoLines(d, 2), ['filter del dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:300 u32', old.apply.find((l) => l.includes('192.0.2.11/32'))]);
  });
});

/** A DNS server whose answers the test changes. */
class FakeDns {
  answers = new Map<string, { v4: string[]; v6: string[]; ttl: number }>();
  queries: string[] = [];
  failing = false;
  readonly factory: Resolver = () => ({
    setServers: () => {},
    resolve4: (h) => this.answer(h, 'v4'),
    resolve6: (h) => this.answer(h, 'v6'),
  });
  private answer(host: string, fam: 'v4' | 'v6'): Promise<DnsRecord[]> {
    this.queries.push(`${fam} ${host}`);
    if (this.failing) return Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }));
    const a = this.answers.get(host);
    if (!a) return Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    return Promise.resolve(a[fam].map((address) => ({ address, ttl: a.ttl })));
  }
}

const resolvConf = (p: string): string | undefined => (p === '/proc/4242/root/etc/resolv.conf' ? 'nameserver 192.0.2.1\nsearch lab.test\n' : undefined);
const target = { kind: 'pid', pid: 4242 } as const;

async function setup(env: Env) {
  const s = spec({ DESTINATION_HOSTS: 'b.lab.test', NETWORK_LATENCY: '100', DEPENDENCY_REFRESH_INTERVAL: '10', ...env });
  const dns = new FakeDns();
  dns.answers.set('b.lab.test', { v4: ['192.0.2.11'], v6: ['2001:db8::11'], ttl: 1 });
  const ns = new FakeNetns();
  const clock = new FakeClock();
  const f = fakeDeps(ns, { clock, readText: resolvConf, resolver: dns.factory });
  const found = await discover(f.deps, s, { pid: 4242 });
  const refresh = liveRefresh(f.deps, { spec: s, sources: liveSources(f.deps, s, 4242), initial: found.resolved });
  const events: LifecycleEvent[] = [];
  const emit = (e: LifecycleEvent): void => { events.push(e); };
  return { s, dns, found, ns, clock, refresh, events, emit, f, live: plan(s, found.facts) };
}

const batches = (ns: FakeNetns): (readonly string[])[] => ns.batches;

describe('the refresh loop', () => {
  test('off: DEPENDENCY_REFRESH=false or DEPENDENCY_REFRESH_INTERVAL=0 gives no refresh (resolve once)', async () => {
    assert.equal((await setup({ DEPENDENCY_REFRESH: 'false' })).refresh, undefined);
    assert.equal((await setup({ DEPENDENCY_REFRESH_INTERVAL: '0' })).refresh, undefined);
  });

  test('DNS is asked again at the TTL kept within 5 s and the interval; unchanged answers change nothing', async () => {
    const r = await setup({});
    assert.ok(r.refresh);
    let live: Plan = r.live;
    const queries = (): number => r.dns.queries.length;
    const q0 = queries();
    r.clock.t += 4000;
    live = await r.refresh(live, target, r.emit);
    assert.equal(queries(), q0, 'TTL 1 s but not before 5 s');
    r.clock.t += 1000;
    live = await r.refresh(live, target, r.emit);
    assert.equal(queries(), q0 + 2, 'A and AAAA at 5 s');
    assert.equal(live, r.live, 'same answer: same plan');
    assert.deepEqual(batches(r.ns), [], 'nothing applied');
    r.dns.answers.set('b.lab.test', { v4: ['192.0.2.11'], v6: [], ttl: 3600 });
    r.clock.t += 5000;
    live = await r.refresh(live, target, r.emit);
    r.clock.t += 9000;
    await r.refresh(live, target, r.emit);
    assert.equal(queries(), q0 + 4, 'TTL 3600 s: next question at the 10 s interval, not before');
    assert.equal(refreshDelayMs('dns', 10, 3600), 10_000);
    assert.equal(refreshDelayMs('dns', 10, 0), 5_000);
    assert.equal(refreshDelayMs('dns', 3, 0), 3_000);
    assert.equal(refreshDelayMs('kube', 10), 10_000);
  });

  test('the name moves: exactly the diff batch runs, and the change is logged with its dependency', async () => {
    const r = await setup({});
    r.dns.answers.set('b.lab.test', { v4: ['192.0.2.13'], v6: ['2001:db8::11'], ttl: 1 });
    r.clock.t += 5000;
    const live = await r.refresh!(r.live, target, r.emit);
    assert.deepEqual(batches(r.ns), [[
      'filter del dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:100 u32',
      'filter add dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:100 u32 ht 10:0: match ip dst 192.0.2.13/32 flowid 4e43:4',
    ]]);
    assert.deepEqual(r.ns.calls[0]?.netns, target, 'in the target\'s namespace');
    assert.deepEqual(r.events.map((e) => e.kind), ['dependency-changed', 'refresh-applied']);
    const changed = r.events[0];
    assert.ok(changed?.kind === 'dependency-changed');
    assert.deepEqual([changed.source, changed.added, changed.removed], ['host b.lab.test', ['192.0.2.13'], ['192.0.2.11']]);
    assert.ok(live.entries.some((e) => e.cidr?.address === '192.0.2.13'));
    // The next refresh diffs against the new live plan.
    r.dns.answers.set('b.lab.test', { v4: ['192.0.2.13', '192.0.2.14'], v6: ['2001:db8::11'], ttl: 1 });
    r.clock.t += 5000;
    await r.refresh!(live, target, r.emit);
    assert.equal(batches(r.ns).length, 2);
    assert.deepEqual(batches(r.ns)[1]?.map((l) => l.replace(/handle 10:0:[0-9a-f]+/, 'handle 10:0:N')), [
      'filter add dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:N u32 ht 10:0: match ip dst 192.0.2.14/32 flowid 4e43:4',
    ]);
  });

  test('UNRESOLVED_HOSTS=skip: a name left out at the start is in the plan output as such, and added by the refresh once it resolves', async () => {
    const r = await setup({ DESTINATION_HOSTS: 'b.lab.test,late.lab.test', UNRESOLVED_HOSTS: 'skip' });
    assert.deepEqual(r.found.resolved.map((x) => [x.source, x.items.length]), [['host b.lab.test', 2], ['host late.lab.test', 0]]);
    assert.match(describeResolved(r.found.resolved), /host late\.lab\.test: no address\n {4}DESTINATION_HOSTS late\.lab\.test does not resolve .*: left out \(UNRESOLVED_HOSTS=skip\)/);
    let live = r.live;
    r.clock.t += 10_000;
    live = await r.refresh!(live, target, r.emit);
    assert.deepEqual(r.events.map((e) => e.kind), ['dependency-stale'], 'still no record: asked again later, nothing applied');
    r.dns.answers.set('late.lab.test', { v4: ['192.0.2.77'], v6: [], ttl: 30 });
    r.clock.t += 10_000;
    live = await r.refresh!(live, target, r.emit);
    const changed = r.events.find((e) => e.kind === 'dependency-changed');
    assert.ok(changed?.kind === 'dependency-changed');
    assert.deepEqual([changed.source, changed.added, changed.removed], ['host late.lab.test', ['192.0.2.77'], []]);
    assert.ok(live.entries.some((e) => e.cidr?.address === '192.0.2.77'));
    // Without skip the same start is an error before anything is planned.
    await assert.rejects(setup({ DESTINATION_HOSTS: 'b.lab.test,late.lab.test' }), /DESTINATION_HOSTS late\.lab\.test does not resolve/);
  });
  test('a name that stops resolving keeps its addresses (never "all traffic") and is asked again after the interval', async () => {
    const r = await setup({});
    r.dns.failing = true;
    r.clock.t += 5000;
    const live = await r.refresh!(r.live, target, r.emit);
    assert.equal(live, r.live);
    assert.deepEqual(batches(r.ns), []);
    assert.deepEqual(r.events.map((e) => e.kind), ['dependency-stale']);
    const q = r.dns.queries.length;
    r.clock.t += 9000;
    await r.refresh!(live, target, r.emit);
    assert.equal(r.dns.queries.length, q, 'not before the 10 s interval');
  });

  test('tc rejects the diff midway: the lines that ran are undone in one batch, the old filters stay, loud; tried again next time', async () => {
    const r = await setup({});
    r.dns.answers.set('b.lab.test', { v4: ['192.0.2.13'], v6: ['2001:db8::11'], ttl: 1 });
    r.ns.batchFailsAt = 2;
    r.ns.afterCall = () => { r.ns.batchFailsAt = undefined; };
    r.clock.t += 5000;
    const live = await r.refresh!(r.live, target, r.emit);
    assert.equal(live, r.live, 'the live plan is the old one');
    const [diff, undo] = batches(r.ns);
    assert.equal(diff?.length, 2);
    assert.deepEqual(undo, [r.live.apply.find((l) => l.includes('192.0.2.11/32'))], 'the delete that ran is undone');
    const failed = r.events.find((e) => e.kind === 'refresh-failed');
    assert.ok(failed?.kind === 'refresh-failed' && failed.kept);
    assert.match(failed.error, /tc rejected line 2 of the refresh batch/);
    r.clock.t += 5000;
    await r.refresh!(live, target, r.emit);
    assert.deepEqual(batches(r.ns)[2], diff, 'the same diff is tried again');
  });

  test('the rollback fails too: the refresh throws (the run ends and reverts the whole tree)', async () => {
    const r = await setup({});
    r.dns.answers.set('b.lab.test', { v4: ['192.0.2.13'], v6: ['2001:db8::11'], ttl: 1 });
    r.ns.batchFailsAt = 2;
    r.clock.t += 5000;
    await assert.rejects(r.refresh!(r.live, target, r.emit), /its rollback failed .*unknown state: ending the run/);
    const failed = r.events.find((e) => e.kind === 'refresh-failed');
    assert.ok(failed?.kind === 'refresh-failed' && !failed.kept);
  });

  test('plan describes what is refreshed, how and how often', async () => {
    const r = await setup({});
    const text = describeRefresh(refreshSchedule(r.s, liveSources(r.f.deps, r.s, 4242), r.found.resolved));
    assert.equal(text, 'Live dependencies (DEPENDENCY_REFRESH, interval 10s; only the difference is applied, by filter handle):\n'
      + '  host b.lab.test: A and AAAA with the nameservers of /proc/4242/root/etc/resolv.conf, when the TTL runs out (now 1s, kept within 5–10s): every 5s\n');
    const off = spec({ DESTINATION_HOSTS: 'b.lab.test', DEPENDENCY_REFRESH: 'false' });
    assert.match(describeRefresh(refreshSchedule(off, liveSources(r.f.deps, off, 4242), [])), /^Live dependencies: off/);
  });
});

describe('inject with DEPENDENCY_REFRESH (the wait loop calls the refresh after each step)', () => {
  test('the name moves at 7 s of a 20 s run: apply, one diff batch, revert; the change is logged', async () => {
    const r = await setup({ TOTAL_CHAOS_DURATION: '20' });
    const f = r.f;
    const refresh = liveRefresh(f.deps, { spec: r.s, sources: liveSources(f.deps, r.s, 4242), initial: r.found.resolved });
    assert.ok(refresh);
    r.clock.onSleep = (t) => { if (t - 1_000_000 >= 7000) r.dns.answers.set('b.lab.test', { v4: ['192.0.2.13'], v6: ['2001:db8::11'], ttl: 1 }); };
    const kinds: string[] = [];
    const outcome = await inject(f.deps, { spec: r.s, plan: r.live, netns: target, runId: '0123456789abcdef', refresh, onEvent: (e) => kinds.push(e.kind) });
    assert.equal(outcome.status, 'completed');
    const all = batches(r.ns);
    assert.equal(all[0]?.[0], 'qdisc add dev eth0 root handle 4e43: prio bands 4');
    const diffs = all.filter((b) => b[0]?.startsWith('filter '));
    assert.deepEqual(diffs, [[
      'filter del dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:100 u32',
      'filter add dev eth0 parent 4e43: protocol ip prio 1 handle 10:0:100 u32 ht 10:0: match ip dst 192.0.2.13/32 flowid 4e43:4',
    ]], 'one diff, at the first refresh after the move (10 s: TTL 1 s kept to 5 s)');
    assert.equal(r.ns.tcOps.at(-1), 'revert', 'the revert comes last');
    assert.ok(kinds.includes('dependency-changed') && kinds.includes('refresh-applied'));
    assert.ok(f.lines.some((l) => l.msg === 'dependency host b.lab.test moved: added 192.0.2.13, removed 192.0.2.11'));
  });
});
