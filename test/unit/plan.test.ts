import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { VariableName } from '../../src/config/vars.ts';
import { HASH2_MIN_ENTRIES, plan, type Plan } from '../../src/tc/plan.ts';
import { describePlan } from '../../src/tc/describe.ts';
import { PlanError } from '../../src/model/errors.ts';
import { matchSnapshot } from '../support/snapshots.ts';
import { specOf as spec } from '../support/spec.ts';
import { Tree } from '../support/u32sim.ts';
import { cpuMs } from '../support/cpu.ts';

const batch = (p: Plan): string => p.apply.join('\n') + '\n';

describe('tc batch snapshots', () => {
  const cases: [string, Partial<Record<VariableName, string>>][] = [
    ['single-ipv4', { DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100' }],
    ['single-ipv6', { DESTINATION_IPS: '2001:db8::11', NETWORK_LATENCY: '100', JITTER: '10', CORRELATION: '25', DELAY_DISTRIBUTION: 'normal' }],
    ['cidr-ports', { DESTINATION_IPS: '198.51.100.0/24|443,192.0.2.11|8080|9090', DESTINATION_PORTS: '5432', NETWORK_LATENCY: '200' }],
    ['exclusions', { DESTINATION_IPS: '192.0.2.11,2001:db8::11', DESTINATION_PORTS: '!9090,22', SOURCE_PORTS: '!8443', NETWORK_LATENCY: '100' }],
    ['no-destination', {}],
    ['ports-only', { DESTINATION_PORTS: '5432', NETWORK_PACKET_LOSS_PERCENTAGE: '10', NETWORK_LATENCY: '0' }],
    ['several-profiles', {
      DESTINATION_IPS: '192.0.2.13', NETWORK_LATENCY: '50',
      FAULTS: 'latency=100@192.0.2.11|8080,2001:db8::11 loss=5,corruption=0.5@192.0.2.12 latency=50@198.51.100.0/24 bandwidth=1mbit,reorder=10,latency=20@2001:db8:1::/48',
    }],
  ];
  for (const [name, env] of cases) {
    test(name, () => {
      const p = plan(spec(env));
      matchSnapshot(`${name}.batch`, batch(p));
      matchSnapshot(`${name}.plan.txt`, describePlan(p));
    });
  }
});

describe('what each packet gets', () => {
  test('B delayed, C and D untouched: unmatched traffic never reaches a netem band', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11,2001:db8::11', NETWORK_LATENCY: '100' }));
    const t = new Tree(p.apply);
    assert.equal(t.bands, 4, 'one band more than the default three');
    assert.equal(t.netem.get(4), 'limit 100000 delay 100ms');
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 80 }), 4);
    assert.equal(t.classify({ dst: '2001:db8::11', dport: 80 }), 4);
    assert.equal(t.classify({ dst: '192.0.2.12', dport: 80 }), 'priomap');
    assert.equal(t.classify({ dst: '2001:db8::12' }), 'priomap');
    assert.ok(!p.apply[0]?.includes('priomap'), 'the default priomap is kept');
    assert.deepEqual(p.warnings, []);
  });
  test('IPv6 uses protocol ipv6 and ip6 matches (litmus-go uses protocol ip for both)', () => {
    const p = plan(spec({ DESTINATION_IPS: '2001:db8::11' }));
    const v6 = p.apply.filter((l) => l.includes('match ip6 dst'));
    assert.equal(v6.length, 1);
    assert.match(v6[0]!, /protocol ipv6 prio 2 /);
  });
  test('ports are AND-combined with the address', () => {
    const t = new Tree(plan(spec({ DESTINATION_IPS: '192.0.2.11|8080' })).apply);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 8080 }), 4);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 9090 }), 'priomap');
    assert.equal(t.classify({ dst: '192.0.2.12', dport: 8080 }), 'priomap');
  });
  test('!port exclusions: B on 9090 goes to the normal band, every other port of B is delayed', () => {
    const t = new Tree(plan(spec({ DESTINATION_IPS: '192.0.2.11,2001:db8::11', DESTINATION_PORTS: '!9090' })).apply);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 9090 }), 2);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 8080 }), 4);
    assert.equal(t.classify({ dst: '2001:db8::11', dport: 9090 }), 2);
    assert.equal(t.classify({ dst: '2001:db8::11', dport: 443 }), 4);
    assert.equal(t.classify({ dst: '192.0.2.12', dport: 8080 }), 'priomap');
  });
  test('source ports match the target side (a server answering from its port)', () => {
    const t = new Tree(plan(spec({ DESTINATION_IPS: '192.0.2.0/24', SOURCE_PORTS: '8080' })).apply);
    assert.equal(t.classify({ dst: '192.0.2.11', sport: 8080, dport: 40000 }), 4);
    assert.equal(t.classify({ dst: '192.0.2.11', sport: 9090 }), 'priomap');
  });
  test('no destination: every packet, and plan says so loudly', () => {
    const p = plan(spec({}));
    const t = new Tree(p.apply);
    assert.equal(t.classify({ dst: '203.0.113.9' }), 4);
    assert.equal(t.classify({ dst: '2001:db8::99' }), 4);
    assert.equal(p.allTraffic, true);
    assert.match(p.warnings[0] ?? '', /ALL egress traffic of eth0/);
    assert.match(describePlan(p), /^!!! WARNING: .*ALL egress traffic/);
  });
  test('different faults for different destinations; the most specific entry wins', () => {
    const p = plan(spec({ FAULTS: 'latency=100@192.0.2.11|8080 loss=5@192.0.2.0/24 latency=100@2001:db8::11 corruption=1@192.0.2.11' }));
    const t = new Tree(p.apply);
    assert.equal(p.bands.length, 3, 'equal faults share one band');
    assert.deepEqual(p.bands.map((b) => b.groups), [['FAULTS #1', 'FAULTS #3'], ['FAULTS #2'], ['FAULTS #4']]);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 8080 }), 4);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 22 }), 6);
    assert.equal(t.classify({ dst: '192.0.2.99', dport: 8080 }), 5);
    assert.equal(t.classify({ dst: '2001:db8::11' }), 4);
    assert.equal(t.netem.get(5), 'limit 100000 loss random 5%');
  });
  test('overlapping and adjacent networks are merged before they become filters', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.0/25,192.0.2.128/25,192.0.2.7,2001:db8::/127,2001:db8::1' }));
    assert.deepEqual(p.entries.map((e) => `${e.cidr?.address}/${e.cidr?.prefix}`), ['192.0.2.0/24', '2001:db8::/127']);
  });
  // The rules the input alone decides (two faults for one address given, duplication next to another fault,
  // more than 13 profiles) are refused by buildSpec: test/unit/config.test.ts "the planner's rules".
  test('an address found by discovery that another group gives another fault: a PlanError (exit 2, nothing changed)', () => {
    const s = spec({ DESTINATION_HOSTS: 'b.lab.test', NETWORK_LATENCY: '100', FAULTS: 'loss=5@192.0.2.11' });
    const discovered = [[{ cidr: { family: 4, address: '192.0.2.11', prefix: 32 }, ports: [] }], []] as const;
    assert.throws(() => plan(s, { discovered }),
      (e: unknown) => e instanceof PlanError && /192.0.2.11\/32 is given two different faults \(in DESTINATION_IPS and FAULTS #1\)/.test(e.message));
  });
});

describe('scale', () => {
  /** n addresses from the benchmarking range 198.18.0.0/15 and 2001:db8:ffff::/48, half each. */
  function manyDestinations(n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      out.push(i % 2 === 0 ? `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 0xff}.${i & 0xff}` : `2001:db8:ffff::${i.toString(16)}`);
    }
    return out.join('\n');
  }

  test('10,000 mixed IPv4/IPv6 destinations plus B: two hash levels, every bucket under the u32 limit and short', () => {
    const s = spec({ DESTINATION_IPS: '192.0.2.11', DESTINATION_IPS_FILE: '/many', NETWORK_LATENCY: '100' }, { '/many': manyDestinations(10_000) });
    const started = cpuMs();
    const p = plan(s);
    const ms = cpuMs() - started;
    assert.ok(ms < 5000, `planning 10k destinations took ${ms} ms of CPU`);
    const level = (htid: string, l: number | undefined): string => `${htid} hash${l === undefined ? '' : ` level ${l}`}`;
    assert.deepEqual(p.tables.map((t) => level(t.htid, t.level)), [
      level('11:', 1), ...Array.from({ length: 256 }, (_, b) => level(`${(0x100 + b).toString(16)}:`, 2)),
      level('21:', 1), ...Array.from({ length: 256 }, (_, b) => level(`${(0x200 + b).toString(16)}:`, 2)),
    ]);
    const t = new Tree(p.apply);
    // One-level, a bucket held ~20 entries (5,000 per family over 256 buckets), all walked by every packet to C.
    assert.ok(Math.max(...t.sizes().values()) <= 2, `at most 2 nodes in any bucket: ${Math.max(...t.sizes().values())}`);
    assert.equal(t.classify({ dst: '192.0.2.11' }), 4);
    assert.equal(t.classify({ dst: '192.0.2.12' }), 'priomap');
    assert.equal(t.classify({ dst: '198.18.39.14' }), 4);
    assert.equal(t.classify({ dst: '198.18.39.15' }), 'priomap');
    assert.equal(t.classify({ dst: '2001:db8:ffff::2701' }), 4);
    assert.equal(t.classify({ dst: '2001:db8:ffff::2700' }), 'priomap');
    const handles = p.entries.reduce((n, e) => n + e.handles.length, 0);
    assert.equal(p.entries.length, 10_001, 'no two of these addresses are adjacent, so nothing merges');
    assert.equal(p.apply.length, 2 + 2 * (1 + 256 + 256 + 1) + handles, 'root, netem, per family the level-1 table, 256 level-2 tables, 256 bucket links and the root link, then one line per entry');
    assert.equal(t.classify({ dst: '198.18.200.14' }), 'priomap', 'same last byte as a delayed address, another byte before');
    assert.equal(t.classify({ dst: '2001:db8:ffff::ff01' }), 'priomap', 'IPv6 likewise');
    // Each level-2 table with its entries, then the level-1 table and its links, the root's link last (per family).
    const l1 = p.apply.findIndex((l) => l.endsWith(' handle 11: u32 divisor 256'));
    const root = p.apply.findIndex((l) => l.endsWith(' u32 match u32 0 0 hashkey mask 0x000000ff at 16 link 11:'));
    assert.equal(root - l1, 257, 'the level-1 table, its 256 links, the root link');
    matchSnapshot('10k.batch-head', [...p.apply.slice(0, 5), '…', ...p.apply.slice(l1 - 2, l1 + 3), '…', ...p.apply.slice(root - 1, root + 3)].join('\n') + '\n');
  });

  test('a linear table would overflow at 4096: 5,000 /24 networks are refused with advice', () => {
    const nets = Array.from({ length: 5000 }, (_, i) => `10.${i >> 8}.${i & 0xff}.0/24|${80 + (i % 2)}`).join(',');
    assert.throws(() => plan(spec({ DESTINATION_IPS: nets })), (e: unknown) => e instanceof PlanError && /more than 4095 IPv4 filter entries land in one u32 table/.test(e.message));
  });

  test('a /28 is hashed into the 16 buckets it covers', () => {
    const many = Array.from({ length: 32 }, (_, i) => `198.51.100.${i * 8}/30`).join(',');
    const p = plan(spec({ DESTINATION_IPS: `${many},203.0.113.16/28|53` }));
    const t = new Tree(p.apply);
    for (let last = 16; last < 32; last++) assert.equal(t.classify({ dst: `203.0.113.${last}`, dport: 53 }), 4);
    assert.equal(t.classify({ dst: '203.0.113.32', dport: 53 }), 'priomap');
    assert.equal(p.entries.find((e) => e.cidr?.address === '203.0.113.16')?.handles.length, 16);
  });
});


describe('two hash levels', () => {
  /** n distinct /32s of 10.0.0.0/8 whose last bytes repeat every 256. */
  const addresses = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`);
  const layout = (p: Plan): string[] => p.tables.filter((t) => t.level !== 2).map((t) => `${t.htid} ${t.kind}${t.level ? ` level ${t.level}` : ''}`);

  test(`a family keeps one hash level up to ${HASH2_MIN_ENTRIES} hashed entries and takes two above`, () => {
    // Every other address: nothing merges.
    const list = (n: number): string => addresses(2 * n).filter((_a, i) => i % 2 === 0).join('\n');
    const at = plan(spec({ DESTINATION_IPS_FILE: '/l', NETWORK_LATENCY: '10' }, { '/l': list(HASH2_MIN_ENTRIES) }));
    assert.deepEqual(layout(at), ['11: hash']);
    assert.equal(at.tables.length, 1);
    const above = plan(spec({ DESTINATION_IPS_FILE: '/l', NETWORK_LATENCY: '10' }, { '/l': list(HASH2_MIN_ENTRIES + 1) }));
    assert.deepEqual(layout(above), ['11: hash level 1']);
    assert.equal(above.tables.filter((t) => t.level === 2).length, 256, 'all 256 level-2 tables exist from the start');
    assert.equal(above.tables.reduce((n, t) => n + (t.level === 2 ? t.nodes : 0), 0), HASH2_MIN_ENTRIES + 1);
  });

  test('a packet to an address with a delayed neighbour (same last byte, another byte before) is not delayed; /25-/31 entries land in the level-2 bucket of their byte before in each level-1 bucket they cover', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11,198.51.100.16/28|53,2001:db8::11,2001:db8::1:10/126', DESTINATION_PORTS: '!9090', NETWORK_LATENCY: '100' }), {}, { hash2MinEntries: 0 });
    assert.deepEqual(layout(p), ['11: hash level 1', '21: hash level 1']);
    const t = new Tree(p.apply);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 80 }), 4);
    assert.equal(t.classify({ dst: '192.0.2.11', dport: 9090 }), 2, 'the exclusion first');
    assert.equal(t.classify({ dst: '192.0.3.11', dport: 80 }), 'priomap', 'same last byte, another third byte');
    assert.equal(t.classify({ dst: '192.1.2.11', dport: 80 }), 'priomap', 'same last two bytes');
    for (let last = 16; last < 32; last++) assert.equal(t.classify({ dst: `198.51.100.${last}`, dport: 53 }), 4);
    assert.equal(t.classify({ dst: '198.51.101.16', dport: 53 }), 'priomap');
    assert.deepEqual(p.entries.find((e) => e.cidr?.address === '198.51.100.16')?.handles.slice(0, 2), ['110:64:1', '111:64:1'], 'bucket 0x64 (100) of the tables 110: and 111:');
    assert.equal(t.classify({ dst: '2001:db8::11' }), 4);
    assert.equal(t.classify({ dst: '2001:db8::111' }), 'priomap', 'IPv6: same last byte, another byte before');
    for (const a of ['2001:db8::1:10', '2001:db8::1:13']) assert.equal(t.classify({ dst: a }), 4, a);
    assert.equal(t.classify({ dst: '2001:db8::1:14' }), 'priomap');
    assert.equal(t.classify({ dst: '2001:db8::10' }), 'priomap', 'the /126\'s last byte, another byte before');
  });

  test('snapshot: the plan text (a summary of the 256 level-2 tables) and the whole batch', () => {
    const p = plan(spec({ DESTINATION_IPS: '203.0.113.11,198.51.100.16/28|53,192.0.2.0/24', DESTINATION_PORTS: '!9090', NETWORK_LATENCY: '100' }), {}, { hash2MinEntries: 0 });
    const text = describePlan(p);
    matchSnapshot('two-level.plan.txt', text);
    assert.equal(text.split('\n').filter((l) => /^ {2}IPv4 .*hash/.test(l)).length, 1, 'one line for the hash tables');
    assert.match(text, /IPv4 two-level hash: table 11: \(divisor 256, key: last address byte\) links each bucket to its own table, 100:-1ff: \(256 tables, divisor 256, key: the byte before\): 18 entries, at most 2 in one table/);
  });

  test('ingress: both levels keyed on the source address (IPv4 at 12, IPv6 at 20)', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11,2001:db8::11', DIRECTION: 'ingress' }), {}, { hash2MinEntries: 0 });
    assert.ok(p.apply.includes('filter add dev nc-ifb-eth0 parent 4e43: protocol ip prio 1 handle 11:b:1 u32 ht 11:b: match u32 0 0 hashkey mask 0x0000ff00 at 12 link 10b:'));
    assert.ok(p.apply.includes('filter add dev nc-ifb-eth0 parent 4e43: protocol ip prio 1 u32 match u32 0 0 hashkey mask 0x000000ff at 12 link 11:'));
    assert.ok(p.apply.includes('filter add dev nc-ifb-eth0 parent 4e43: protocol ipv6 prio 2 handle 21:11:1 u32 ht 21:11: match u32 0 0 hashkey mask 0x0000ff00 at 20 link 211:'));
    const t = new Tree(p.apply.filter((l) => l.includes(' dev nc-ifb-eth0 ')));
    assert.equal(t.classify({ src: '192.0.2.11', dst: '192.0.2.10' }), 4);
    assert.equal(t.classify({ src: '192.0.3.11', dst: '192.0.2.10' }), 'priomap');
    assert.equal(t.classify({ src: '2001:db8::11', dst: '2001:db8::10' }), 4);
    assert.equal(t.classify({ src: '2001:db8::111', dst: '2001:db8::10' }), 'priomap');
  });

  test('order: every table is created before a link points at it, and the root links last', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11' }), {}, { hash2MinEntries: 0 });
    const created = (htid: string): number => p.apply.findIndex((l) => l.endsWith(` handle ${htid} u32 divisor 256`));
    p.apply.forEach((l, i) => {
      const link = / link ([0-9a-f]+:)$/.exec(l)?.[1];
      if (link) assert.ok(created(link) !== -1 && created(link) < i, `${link} created before line ${i}`);
    });
    const rootLink = p.apply.findIndex((l) => l.includes(' u32 match u32 0 0 hashkey mask 0x000000ff at 16 link 11:'));
    assert.ok(p.apply.findIndex((l) => l.includes(' ht 11:ff: ')) < rootLink, 'the level-1 buckets are linked before the root links to them');
  });
});
