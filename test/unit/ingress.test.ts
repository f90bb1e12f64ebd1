/** DIRECTION=ingress/both: the planner's ifb tree, the ingress ownership rule, and the lifecycle against the fake namespace. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Spec } from '../../src/model/spec.ts';
import { RefusedError, UsageErrors, exitCodeOf } from '../../src/model/errors.ts';
import { ifbName, isIfbName, plan } from '../../src/tc/plan.ts';
import { describePlan } from '../../src/tc/describe.ts';
import { ingressOwner, ourRedirect, parseIngressFilters, parseQdiscs } from '../../src/tc/parse.ts';
import { inject } from '../../src/lifecycle/inject.ts';
import { type Env, specOf } from '../support/spec.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { fakeDeps } from '../support/fake-ports.ts';
import { matchSnapshot } from '../support/snapshots.ts';
import { Tree } from '../support/u32sim.ts';

const spec = (env: Env): Spec => specOf({ NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '5', ...env });

/** The lines of the batch that build the tree on one device (what u32sim reads). */
const treeOn = (lines: readonly string[], dev: string): string[] => lines.filter((l) => l.includes(` dev ${dev} `) && !l.includes('ffff:'));

describe('DIRECTION: the planner', () => {
  test('DIRECTION is parsed: egress by default, ingress/both accepted, anything else exit 2', () => {
    assert.equal(spec({ DESTINATION_IPS: '192.0.2.11' }).direction, 'egress');
    assert.equal(spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'Ingress' }).direction, 'ingress');
    assert.throws(() => spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'in' }), (e: unknown) => e instanceof UsageErrors && /DIRECTION: expected egress, ingress or both, got "in"/.test(e.message));
    assert.throws(() => spec({ DESTINATION_IPS: '192.0.2.11', VERIFY_EFFECT: 'true', MEASURE_EFFECT: 'false' }), /VERIFY_EFFECT: verifying the effect needs MEASURE_EFFECT=true/);
  });

  test('ifb names mark themselves as ours and fit IFNAMSIZ', () => {
    assert.equal(ifbName('eth0'), 'nc-ifb-eth0');
    assert.ok(ifbName('enp0s31f6.1234').length <= 15);
    assert.match(ifbName('veth@if3'), /^nc-ifh-[0-9a-f]{8}$/);
  });

  test('ifb names never collide: interfaces with a common 8-char prefix, and names that differ only in characters tc cannot take', () => {
    const names = ['enp0s31f6', 'enp0s31f6.100', 'enp0s31f6.101', 'enp0s31f', 'enp0s31', 'veth@if3', 'veth-if3', 'vethif3', 'eth0', 'eth0.1', 'br-1a2b3c4d5e6f', 'br-1a2b3c4d5e6e'];
    const ifbs = names.map(ifbName);
    assert.equal(new Set(ifbs).size, names.length, JSON.stringify(ifbs));
    for (const i of ifbs) {
      assert.ok(i.length <= 15 && /^[A-Za-z0-9_.-]+$/.test(i), i);
      assert.ok(isIfbName(i));
    }
    assert.equal(ifbName('enp0s31f6'), ifbName('enp0s31f6'), 'the same interface always gets the same ifb');
    assert.ok(!isIfbName('eth0') && !isIfbName('nc-other'));
  });

  test('ingress: the same tree on the ifb, matched on the source; the redirect comes last; nothing on eth0 root', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11|8080,2001:db8::11', SOURCE_PORTS: '40000', DIRECTION: 'ingress' }));
    assert.equal(p.ifb, 'nc-ifb-eth0');
    assert.deepEqual(p.links, ['link add nc-ifb-eth0 type ifb', 'link set dev nc-ifb-eth0 up']);
    assert.ok(!p.apply.some((l) => l.includes('dev eth0 root')), 'no egress tree with DIRECTION=ingress');
    assert.deepEqual(p.apply.slice(-2), [
      'qdisc add dev eth0 handle ffff: ingress',
      'filter add dev eth0 parent ffff: protocol all prio 20035 u32 match u32 0 0 action mirred egress redirect dev nc-ifb-eth0',
    ]);
    assert.ok(p.apply.some((l) => l.startsWith('filter add dev nc-ifb-eth0 parent 4e43: protocol ip prio 1 handle 10:0:') && l.endsWith(' match ip src 192.0.2.11/32 match ip sport 8080 0xffff flowid 4e43:4')), 'the dependency\'s port is the source port of what it sends');
    assert.ok(p.apply.some((l) => l.includes('match ip6 src 2001:db8::11/128 match ip6 dport 40000 0xffff')), 'SOURCE_PORTS (the target\'s port) becomes the dport of arriving packets');
    const t = new Tree(treeOn(p.apply, 'nc-ifb-eth0'));
    assert.equal(t.classify({ src: '192.0.2.11', dst: '192.0.2.10', sport: 8080, dport: 51000 }), 4, 'a reply from B:8080 is delayed');
    assert.equal(t.classify({ src: '192.0.2.11', dst: '192.0.2.10', sport: 9090 }), 'priomap');
    assert.equal(t.classify({ src: '192.0.2.12', dst: '192.0.2.10', sport: 8080 }), 'priomap', 'C is untouched');
  });

  test('both: the egress tree on eth0 and the ingress tree on the ifb, from the same entries', () => {
    const p = plan(spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'both' }));
    const egress = new Tree(treeOn(p.apply, 'eth0'));
    const ingress = new Tree(treeOn(p.apply, 'nc-ifb-eth0'));
    assert.equal(egress.classify({ dst: '192.0.2.11' }), 4);
    assert.equal(ingress.classify({ src: '192.0.2.11', dst: '192.0.2.10' }), 4);
    assert.equal(ingress.classify({ src: '192.0.2.12', dst: '192.0.2.10' }), 'priomap');
    assert.equal(p.apply[0], 'qdisc add dev eth0 root handle 4e43: prio bands 4');
    matchSnapshot('ingress-both.plan.txt', describePlan(p));
  });

  test('many sources: the hash table is keyed on the last byte of the SOURCE address (IPv4 at 12, IPv6 at 20)', () => {
    const many = Array.from({ length: 40 }, (_, i) => `198.51.100.${i * 3},2001:db8:1::${(i * 3).toString(16)}`).join(',');
    const p = plan(spec({ DESTINATION_IPS: many, DIRECTION: 'ingress' }));
    assert.ok(p.apply.includes('filter add dev nc-ifb-eth0 parent 4e43: protocol ip prio 1 u32 match u32 0 0 hashkey mask 0x000000ff at 12 link 11:'));
    assert.ok(p.apply.includes('filter add dev nc-ifb-eth0 parent 4e43: protocol ipv6 prio 2 u32 match u32 0 0 hashkey mask 0x000000ff at 20 link 21:'));
    const t = new Tree(treeOn(p.apply, 'nc-ifb-eth0'));
    assert.equal(t.classify({ src: '198.51.100.9', dst: '192.0.2.10' }), 4);
    assert.equal(t.classify({ src: '198.51.100.10', dst: '192.0.2.10' }), 'priomap');
    assert.equal(t.classify({ src: '2001:db8:1::1e', dst: '2001:db8::10' }), 4);
  });
});

describe('DIRECTION: whose ingress qdisc (measured tc 6.1 JSON)', () => {
  const oursFilters = '[{"parent":"ffff:","protocol":"all","pref":20035,"kind":"u32","chain":0},{"parent":"ffff:","protocol":"all","pref":20035,"kind":"u32","chain":0,"options":{"fh":"800:","ht_divisor":1}},{"parent":"ffff:","protocol":"all","pref":20035,"kind":"u32","chain":0,"options":{"fh":"800::800","order":2048,"key_ht":"800","bkt":"0","not_in_hw":true,"match":{"value":"0","mask":"0","offmask":"","off":0},"actions":[{"order":1,"kind":"mirred","mirred_action":"redirect","direction":"egress","to_dev":"nc-ifb-eth0","control_action":{"type":"stolen"},"index":1,"ref":1,"bind":1}]}}]';
  const withIngress = parseQdiscs('[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}},{"kind":"ingress","handle":"ffff:","parent":"ffff:fff1","options":{}}]');
  const withClsact = parseQdiscs('[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}},{"kind":"clsact","handle":"ffff:","parent":"ffff:fff1","options":{}}]');
  test('ours: an ingress qdisc whose only filters are our redirect to our ifb', () => {
    assert.equal(ingressOwner(withIngress, parseIngressFilters(oursFilters)), 'ours');
  });
  test('no ingress qdisc: none; a redirect to another ifb, or none of ours: foreign; ours next to others: mixed', () => {
    assert.equal(ingressOwner(parseQdiscs('[{"kind":"noqueue","handle":"0:","root":true}]'), []), 'none');
    assert.equal(ourRedirect(parseIngressFilters(oursFilters)), 'nc-ifb-eth0');
    // Our redirect whose ifb was deleted under it (tc prints its target as "*") is still ours, not "foreign".
    const orphaned = parseIngressFilters(oursFilters.replace('"to_dev":"nc-ifb-eth0"', '"to_dev":"*"'));
    assert.equal(ingressOwner(withIngress, orphaned), 'ours');
    assert.equal(ourRedirect(orphaned), '*');
    // A pref 0x4e43 redirect to a device that is not named like our ifbs is someone else's.
    assert.equal(ingressOwner(withIngress, parseIngressFilters(oursFilters.replace('"to_dev":"nc-ifb-eth0"', '"to_dev":"eth1"'))), 'foreign');
    assert.equal(ingressOwner(withClsact, []), 'foreign');
    assert.equal(ingressOwner(withIngress, [...parseIngressFilters(oursFilters), { pref: 1, redirects: [] }]), 'mixed');
  });
});

describe('DIRECTION: the lifecycle (fake TcPort)', () => {
  const netns = { kind: 'pid', pid: 4242 } as const;
  async function run(ns: FakeNetns, s: Spec) {
    const f = fakeDeps(ns);
    const events: string[] = [];
    let error: unknown;
    try {
      await inject(f.deps, { spec: s, plan: plan(s), netns, runId: '0123456789abcdef', onEvent: (e) => events.push(e.kind) });
    } catch (e) {
      error = e;
    }
    return { error, events, ops: ns.calls.map((c) => `${c.op}${c.dev ? ` ${c.dev}` : ''}${c.lines?.length ? `: ${c.lines[0] ?? ''}` : ''}`) };
  }

  test('ingress: preflight read, ifb created before the tc batch, revert removes the ingress qdisc and the ifb and reads both back', async () => {
    const ns = new FakeNetns();
    const r = await run(ns, spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'ingress' }));
    assert.equal(r.error, undefined);
    assert.deepEqual(r.ops, [
      'qdiscs eth0', // preflight: root
      'readIngress eth0', // preflight: ingress slot, its filters, our ifb
      'addLinks: link add nc-ifb-eth0 type ifb', // apply 1
      'apply: qdisc add dev nc-ifb-eth0 root handle 4e43: prio bands 4', // apply 2 (the one tc batch)
      'revertOnce eth0', // revert: egress root (not there: nothing happens)
      'readIngress eth0', // revert: read the ingress side
      'revertOnce nc-ifb-eth0', // the ifb's tree, guarded by this run's marker (it sits on the ifb): proves the redirect ours
      'readIngress eth0: qdisc del dev eth0 ingress', // ours: delete, and read back in the same batch
      'deleteLink nc-ifb-eth0', // ifb, and the list of ifbs left
    ]);
    assert.equal(ns.ingress, 'none');
    assert.equal(ns.ifb, false);
    assert.deepEqual(ns.root, { kind: 'noqueue', handle: '0:' });
    assert.ok(r.events.includes('reverted'));
  });

  test('a foreign ingress qdisc is refused (exit 5) and untouched; with FORCE it is deleted in the same batch', async () => {
    const ns = new FakeNetns();
    ns.ingress = 'foreign';
    const r = await run(ns, spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'both' }));
    assert.ok(r.error instanceof RefusedError);
    assert.equal(exitCodeOf(r.error), 5);
    assert.match(r.error.message, /already has an ingress qdisc \(clsact ffff:\) that is not ours/);
    assert.equal(ns.ingress, 'foreign');
    assert.equal(ns.ifb, false);
    const forced = new FakeNetns();
    forced.ingress = 'foreign';
    const f = await run(forced, spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'both', FORCE: 'true' }));
    assert.equal(f.error, undefined);
    const batch = forced.calls.find((c) => c.op === 'apply' && c.lines?.[0] === 'qdisc del dev eth0 parent ffff:fff1');
    assert.ok(batch, 'the foreign ingress qdisc is deleted at the head of the batch');
  });

  test('our ifb left by a killed run is refused (exit 5), nothing changed', async () => {
    const ns = new FakeNetns();
    ns.ifb = true;
    const r = await run(ns, spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'ingress' }));
    assert.ok(r.error instanceof RefusedError);
    assert.match(r.error.message, /the ifb device nc-ifb-eth0 already exists .*netchaos revert --pid 4242 --interface eth0/);
    assert.equal(ns.calls.filter((c) => c.op === 'apply' || c.op === 'addLinks').length, 0);
  });

  test('the tc batch fails after the ifb was created: the ifb and whatever the batch made are removed (exit 1)', async () => {
    const ns = new FakeNetns();
    ns.batchFailsAt = 3;
    const r = await run(ns, spec({ DESTINATION_IPS: '192.0.2.11', DIRECTION: 'ingress' }));
    assert.equal(exitCodeOf(r.error), 1);
    assert.equal(ns.ifb, false, 'the ifb is gone');
  });
});
