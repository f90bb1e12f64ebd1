/**
 * The classifier (src/tc/classify.ts, computed from the Plan) against the u32 model (u32sim.ts, which runs the
 * rendered tc lines): for every packet both must pick the same band, egress and ingress, on the planner's
 * snapshot cases and on the hash-table, refresh and ingress plans.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { buildSpec } from '../../src/config/spec.ts';
import type { Spec } from '../../src/model/spec.ts';
import type { VariableName } from '../../src/config/vars.ts';
import { parseCidr } from '../../src/model/addresses.ts';
import { type Plan, plan } from '../../src/tc/plan.ts';
import { type Classification, type Flow, classifyFlow, makeClassifier } from '../../src/tc/classify.ts';
import { Tree } from '../support/u32sim.ts';
import { cpuMs } from '../support/cpu.ts';

function spec(env: Partial<Record<VariableName, string>>, files: Record<string, string> = {}): Spec {
  return buildSpec({
    get: (name) => (env[name] !== undefined ? { value: env[name], label: name } : undefined),
    readFile: (p) => files[p] ?? '',
  });
}

/** The planner's snapshot cases (test/unit/plan.test.ts); each one's batch must still equal its snapshot. */
const snapshotCases: Record<string, Partial<Record<VariableName, string>>> = {
  'single-ipv4': { DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100' },
  'single-ipv6': { DESTINATION_IPS: '2001:db8::11', NETWORK_LATENCY: '100', JITTER: '10', CORRELATION: '25', DELAY_DISTRIBUTION: 'normal' },
  'cidr-ports': { DESTINATION_IPS: '198.51.100.0/24|443,192.0.2.11|8080|9090', DESTINATION_PORTS: '5432', NETWORK_LATENCY: '200' },
  'exclusions': { DESTINATION_IPS: '192.0.2.11,2001:db8::11', DESTINATION_PORTS: '!9090,22', SOURCE_PORTS: '!8443', NETWORK_LATENCY: '100' },
  'no-destination': {},
  'ports-only': { DESTINATION_PORTS: '5432', NETWORK_PACKET_LOSS_PERCENTAGE: '10', NETWORK_LATENCY: '0' },
  'several-profiles': {
    DESTINATION_IPS: '192.0.2.13', NETWORK_LATENCY: '50',
    FAULTS: 'latency=100@192.0.2.11|8080,2001:db8::11 loss=5,corruption=0.5@192.0.2.12 latency=50@198.51.100.0/24 bandwidth=1mbit,reorder=10,latency=20@2001:db8:1::/48',
  },
};

const bandOf = (c: Classification): number | 'priomap' => (c.kind === 'none' ? 'priomap' : c.kind === 'fault' ? c.band.band : c.band);

/** Addresses around every entry's network (first, last, just outside) and a few unrelated ones; its ports and others. */
function probes(p: Plan): { peers: string[]; ports: number[] } {
  const peers = new Set(['192.0.2.10', '192.0.2.12', '198.51.100.200', '203.0.113.9', '10.0.0.1', '2001:db8::12', '2001:db8:1::5', '2001:db8:2::1', 'fd00::1']);
  const ports = new Set([1, 53, 40000]);
  for (const e of p.entries) {
    if (e.dport !== undefined) ports.add(e.dport);
    if (e.sport !== undefined) ports.add(e.sport);
    if (!e.cidr) continue;
    const bytes = ipaddr.parse(e.cidr.address).toByteArray();
    const bits = bytes.length * 8;
    const span = BigInt(2) ** BigInt(bits - e.cidr.prefix);
    const base = bytes.reduce((n, b) => n * 256n + BigInt(b), 0n);
    for (const v of [base, base + span - 1n, base + span, base - 1n]) {
      if (v < 0n || v >= BigInt(2) ** BigInt(bits)) continue;
      const out: number[] = [];
      let x = v;
      for (let i = 0; i < bytes.length; i++) { out.unshift(Number(x & 255n)); x >>= 8n; }
      peers.add(ipaddr.fromByteArray(out).toString());
    }
  }
  return { peers: [...peers], ports: [...ports] };
}

/** The lines of the batch that build the tree on one device. */
const treeOn = (lines: readonly string[], dev: string): string[] => lines.filter((l) => l.includes(` dev ${dev} `) && !l.includes('ffff:'));

/** Every probe packet through both: egress (peer = destination) and, when the plan has one, ingress (peer = source). */
function crossCheck(p: Plan): number {
  const direction = p.direction ?? 'egress';
  const egress = direction === 'ingress' ? undefined : new Tree(treeOn(p.apply, p.interface));
  const ingress = direction === 'egress' ? undefined : new Tree(treeOn(p.apply, p.ifb ?? ''));
  const classify = makeClassifier(p);
  const { peers, ports } = probes(p);
  let n = 0;
  for (const peer of peers) {
    const family = ipaddr.parse(peer).kind() === 'ipv4' ? 4 : 6;
    const own = family === 4 ? '192.0.2.10' : '2001:db8::10';
    for (const peerPort of ports) {
      for (const ownPort of ports) {
        const flow: Flow = { family, peer, peerPort, ownPort };
        const ours = bandOf(classify(flow));
        if (egress) assert.equal(ours, egress.classify({ dst: peer, src: own, dport: peerPort, sport: ownPort }), `egress ${peer}:${peerPort} from port ${ownPort}`);
        if (ingress) assert.equal(ours, ingress.classify({ src: peer, dst: own, sport: peerPort, dport: ownPort }), `ingress ${peer}:${peerPort} to port ${ownPort}`);
        n++;
      }
    }
  }
  return n;
}

describe('the classifier puts each packet in the band the u32 model does', () => {
  const snapshots = readdirSync(new URL('./snapshots/', import.meta.url)).filter((f) => f.endsWith('.batch')).map((f) => f.replace(/\.batch$/, ''));
  test('every planner snapshot case is covered here', () => {
    assert.deepEqual(Object.keys(snapshotCases).sort(), snapshots.sort());
  });
  for (const [name, env] of Object.entries(snapshotCases)) {
    test(`snapshot case ${name}`, () => {
      const p = plan(spec(env));
      assert.equal(p.apply.join('\n') + '\n', readFileSync(new URL(`./snapshots/${name}.batch`, import.meta.url), 'utf8'), 'the case is the one the snapshot was made from');
      const n = crossCheck(p);
      assert.ok(n > 50, `${n} packets`);
    });
    test(`snapshot case ${name}, DIRECTION=both`, () => {
      crossCheck(plan(spec({ ...env, DIRECTION: 'both' })));
    });
  }

  test('hash tables: many /31s and a /28 spread over 16 buckets, ports, IPv6 /126s', () => {
    const v4 = Array.from({ length: 40 }, (_, i) => `198.51.100.${i * 6}/31`).join(',');
    const v6 = Array.from({ length: 40 }, (_, i) => `2001:db8:5::${(i * 8).toString(16)}/126`).join(',');
    const p = plan(spec({ DESTINATION_IPS: `${v4},${v6},203.0.113.16/28|53,192.0.2.0/24`, DESTINATION_PORTS: '!9090', NETWORK_LATENCY: '10' }));
    assert.deepEqual(p.tables.map((t) => `${t.htid} ${t.kind}`), ['11: hash', '10: linear', '21: hash']);
    crossCheck(p);
    crossCheck(plan(spec({ DESTINATION_IPS: `${v4},${v6},203.0.113.16/28|53`, DIRECTION: 'ingress', NETWORK_LATENCY: '10' })));
  });

  test('two hash levels classify every flow as one level does: /31s, a /28, ports, exclusions, several faults, IPv6 /126s, a /24, both directions', () => {
    const v4 = Array.from({ length: 40 }, (_, i) => `198.51.${100 + (i % 3)}.${i * 6}/31`).join(',');
    const v6 = Array.from({ length: 40 }, (_, i) => `2001:db8:5::${(i % 3).toString(16)}${(i * 8).toString(16).padStart(2, '0')}/126`).join(',');
    const env = {
      DESTINATION_IPS: `${v4},${v6},203.0.113.16/28|53,192.0.2.0/24,198.51.101.12`, DESTINATION_PORTS: '!9090', NETWORK_LATENCY: '10',
      FAULTS: 'loss=5@198.51.100.6|8080,2001:db8:5::108 latency=50@198.51.102.12/30',
    } as const;
    for (const direction of ['egress', 'both'] as const) {
      const s = spec({ ...env, DIRECTION: direction });
      const one = plan(s, {}, { hash2MinEntries: Infinity });
      const two = plan(s, {}, { hash2MinEntries: 0 });
      assert.deepEqual(one.tables.filter((t) => t.kind === 'hash').map((t) => t.level), [undefined, undefined], 'one level');
      assert.equal(two.tables.filter((t) => t.level === 1).length, 2, 'two levels');
      assert.ok(crossCheck(two) > 1000, 'the classifier agrees with the u32 model on the two-level tree');
      const a = makeClassifier(one);
      const b = makeClassifier(two);
      const { peers, ports } = probes(one);
      // C's neighbours too: the last byte of an entry, another byte before.
      for (const x of ['198.51.103.12', '198.51.99.6', '2001:db8:5::508', '2001:db8:5:1::108']) peers.push(x);
      const seen = new Set<string>();
      for (const peer of peers) {
        const family = ipaddr.parse(peer).kind() === 'ipv4' ? 4 : 6;
        for (const peerPort of ports) {
          const flow: Flow = { family, peer, peerPort, ownPort: 40000 };
          const kind = a(flow).kind;
          seen.add(kind);
          assert.equal(bandOf(b(flow)), bandOf(a(flow)), `${peer}:${peerPort}`);
        }
      }
      assert.deepEqual([...seen].sort(), ['bypass', 'fault', 'none'], 'the probes reach every outcome');
    }
  });

  test('a refreshed plan: kept and new entries at spread node ids', () => {
    const s = spec({ DESTINATION_HOSTS: 'api', DEPENDENCY_REFRESH: 'true', DESTINATION_IPS: '192.0.2.0/24', NETWORK_LATENCY: '10' });
    const items = (list: string[]) => list.map((a) => ({ cidr: parseCidr('test', a), ports: [] }));
    const index = s.groups.findIndex((g) => g.named !== undefined);
    const facts = (list: string[]) => ({ discovered: s.groups.map((_g, i) => (i === index ? items(list) : [])) });
    const first = plan(s, facts(['192.0.2.11', '198.51.100.7']));
    const next = plan(s, facts(['198.51.100.7', '192.0.2.99', '2001:db8::7']), { previous: first });
    crossCheck(first);
    crossCheck(next);
  });

  test('the answer names the band, its fault and the entry; a port exclusion is band 2, nothing matched is the priomap', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11', DESTINATION_PORTS: '!9090', NETWORK_LATENCY: '100' }));
    const hit = classifyFlow(p, { family: 4, peer: '192.0.2.11', peerPort: 8080, ownPort: 41000 });
    assert.equal(hit.kind, 'fault');
    assert.equal(hit.kind === 'fault' && hit.band.description, '+100ms');
    assert.deepEqual(hit.kind === 'fault' && hit.band.groups, ['DESTINATION_IPS']);
    assert.equal(classifyFlow(p, { family: 4, peer: '192.0.2.11', peerPort: 9090, ownPort: 41000 }).kind, 'bypass');
    assert.equal(classifyFlow(p, { family: 4, peer: '192.0.2.12', peerPort: 8080, ownPort: 41000 }).kind, 'none');
  });

  test('10,001 entries: 4,000 flows classified within 2 s of CPU (measured 0.1-0.4 s)', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 0xff}.${i & 0xff}` : `2001:db8:ffff::${i.toString(16)}`)).join('\n');
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11', DESTINATION_IPS_FILE: '/many', NETWORK_LATENCY: '100' }, { '/many': many }));
    const started = cpuMs();
    const classify = makeClassifier(p);
    let faulted = 0;
    for (let i = 0; i < 4000; i++) {
      const c = classify(i % 2 === 0 ? { family: 4, peer: `198.18.${(i >> 8) & 0xff}.${i & 0xff}`, peerPort: 443, ownPort: 40000 + i } : { family: 6, peer: `2001:db8:ffff::${i.toString(16)}`, peerPort: 443, ownPort: 40000 + i });
      if (c.kind === 'fault') faulted++;
    }
    const ms = cpuMs() - started;
    assert.equal(faulted, 4000);
    assert.ok(ms < 2000, `${ms} ms`);
  });
});
