/**
 * The real TcPort (src/netns/tc.ts) at the command-line level: the argv it gives nsenter, tc and ip, the
 * batches on their stdin, and how it reads what they print (the fake namespace prints what tc 6.1 prints).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeError } from '../../src/model/errors.ts';
import { plan } from '../../src/tc/plan.ts';
import { markerLines, markerNode } from '../../src/tc/marker.ts';
import { nsenterTc } from '../../src/netns/tc.ts';
import { revert } from '../../src/lifecycle/revert.ts';
import type { LifecycleEvent } from '../../src/lifecycle/events.ts';
import { FakeClock, memoryLogger } from '../support/fake-ports.ts';
import { FakeNamespace } from '../support/fake-namespace.ts';
import { specOf } from '../support/spec.ts';

const pid = { kind: 'pid', pid: 4242 } as const;
const spec = specOf({ DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100' });
const owner = { runId: '0123456789abcdef', deadlineS: 1234 };

describe('nsenter + tc', () => {
  test('a batch runs as one `tc -batch -` through nsenter -t <pid> -n, the lines on stdin; a path enters with --net=', async () => {
    const ns = new FakeNamespace();
    const tc = nsenterTc(ns.exec);
    const lines = [...plan(spec).apply, ...markerLines('eth0', owner)];
    assert.equal(await tc.apply(pid, lines), undefined);
    assert.deepEqual(ns.calls[0]?.args, ['-t', '4242', '-n', '--', 'tc', '-batch', '-']);
    assert.equal(ns.calls[0]?.input, lines.join('\n') + '\n');
    await tc.allQdiscs({ kind: 'netns', path: '/var/run/netns/app' });
    assert.deepEqual(ns.calls[1]?.args, ['--net=/var/run/netns/app', '--', 'tc', '-j', 'qdisc', 'show']);
  });
  test('the owner marker written by the batch reads back (tc filter show prints it as text)', async () => {
    const ns = new FakeNamespace();
    const tc = nsenterTc(ns.exec);
    assert.equal(await tc.readMarker(pid, 'eth0'), 'none');
    await tc.apply(pid, [...plan(spec).apply, ...markerLines('eth0', owner)]);
    assert.deepEqual(await tc.readMarker(pid, 'eth0'), { ...owner, node: markerNode(owner.runId) });
    assert.equal(await tc.readMarker(pid, 'net1'), 'gone');
  });
  test('a batch that fails names its line, the line and tc\'s message', async () => {
    const ns = new FakeNamespace();
    ns.batchFailsAt = 2;
    const lines = plan(spec).apply;
    assert.deepEqual(await nsenterTc(ns.exec).apply(pid, lines), { line: 2, text: lines[1], error: 'Error: Specified qdisc kind is unknown.' });
  });
  test('a missing interface says which interfaces the namespace has', async () => {
    const ns = new FakeNamespace();
    await assert.rejects(nsenterTc(ns.exec).qdiscs(pid, 'net1'),
      (e: unknown) => e instanceof RuntimeError && /interface "net1" does not exist in the network namespace of pid 4242; it has: lo, eth0/.test(e.message));
  });
  test('a namespace that cannot be entered says so, with what the runner needs', async () => {
    const ns = new FakeNamespace();
    ns.exists = false;
    await assert.rejects(nsenterTc(ns.exec).qdiscs(pid, 'eth0'), /cannot enter the network namespace of pid 4242: nsenter: .*CAP_SYS_ADMIN.*hostPID/);
  });
  test('revert: one `-j -force` batch deletes our root and reads back what is left', async () => {
    const ns = new FakeNamespace();
    const tc = nsenterTc(ns.exec);
    assert.deepEqual(await tc.revertOnce(pid, 'eth0'), { kind: 'clean', removed: false, root: { kind: 'noqueue', handle: '0:', root: true, refcnt: 2, options: {} } }, 'nothing of ours: nothing removed');
    await tc.apply(pid, plan(spec).apply);
    ns.revertFailures = 1;
    assert.equal((await tc.revertOnce(pid, 'eth0')).kind, 'still-there');
    const r = await tc.revertOnce(pid, 'eth0');
    assert.deepEqual([r.kind, r.kind === 'clean' && r.removed], ['clean', true]);
    assert.deepEqual(ns.calls.at(-1)?.args.slice(-5), ['tc', '-j', '-force', '-batch', '-']);
    assert.equal(ns.calls.at(-1)?.input, 'qdisc del dev eth0 root handle 4e43:\nqdisc show dev eth0\n');
    assert.equal((await tc.revertOnce(pid, 'net1')).kind, 'gone');
  });
  test('`netchaos revert` of an egress-only tree is one exec: the delete, the read-back and the ingress reads in one batch', async () => {
    const ns = new FakeNamespace();
    const tc = nsenterTc(ns.exec);
    await tc.apply(pid, plan(spec).apply);
    const before = ns.calls.length;
    const events: LifecycleEvent[] = [];
    const deps = { tc, clock: new FakeClock(), log: memoryLogger().log, files: { namespaceId: () => Promise.resolve(undefined) } } as unknown as Parameters<typeof revert>[0];
    assert.equal(await revert(deps, { netns: pid, interface: 'eth0', emit: (e) => { events.push(e); } }), 'reverted');
    assert.equal(ns.calls.length - before, 1, 'one exec');
    assert.equal(ns.calls.at(-1)?.input, 'qdisc del dev eth0 root handle 4e43:\nqdisc show dev eth0\nfilter show dev eth0 ingress\nqdisc show dev nc-ifb-eth0\n');
    assert.equal(ns.root.handle, '0:');
    assert.deepEqual(events.map((e) => [e.kind, e.kind === 'reverted' && e.removed]), [['reverted', true]]);
  });
  test('`netchaos revert` with our ingress side there: the same first batch finds it, then it is removed (redirect, ifb)', async () => {
    const ns = new FakeNamespace();
    const tc = nsenterTc(ns.exec);
    ns.ingress = 'ours';
    ns.ifb = true;
    const deps = { tc, clock: new FakeClock(), log: memoryLogger().log, files: { namespaceId: () => Promise.resolve(undefined) } } as unknown as Parameters<typeof revert>[0];
    assert.equal(await revert(deps, { netns: pid, interface: 'eth0', emit: () => undefined }), 'reverted');
    assert.deepEqual([ns.ingress, ns.ifb], ['none', false]);
    assert.equal(ns.calls.length, 3, 'egress + ingress read; ingress delete + read back; ip link del');
    const { egress, ingress } = await tc.revertWithIngress(pid, 'eth0');
    assert.deepEqual([egress.kind, egress.kind === 'clean' && egress.removed, ingress], ['clean', false, { owner: 'none', slot: undefined, redirect: undefined, ifbExists: false }]);
    assert.equal((await tc.revertWithIngress(pid, 'net1')).egress.kind, 'gone');
  });
  test('the ingress side: one read of the slot, its filters and our ifb; the ifb deleted with `ip -batch`', async () => {
    const ns = new FakeNamespace();
    const tc = nsenterTc(ns.exec);
    assert.deepEqual(await tc.readIngress(pid, 'eth0'), { owner: 'none', slot: undefined, redirect: undefined, ifbExists: false });
    ns.ingress = 'ours';
    ns.ifb = true;
    const state = await tc.readIngress(pid, 'eth0');
    assert.deepEqual([state.owner, state.slot?.kind, state.ifbExists], ['ours', 'ingress', true]);
    assert.equal(ns.calls.at(-1)?.input, 'qdisc show dev eth0\nfilter show dev eth0 ingress\nqdisc show dev nc-ifb-eth0\n');
    assert.equal((await tc.readIngress(pid, 'eth0', ['qdisc del dev eth0 ingress'])).owner, 'none');
    assert.deepEqual(await tc.deleteLink(pid, 'nc-ifb-eth0'), { left: [], error: '' });
    assert.deepEqual(ns.calls.at(-1)?.args.slice(-5), ['ip', '-j', '-force', '-batch', '-']);
    assert.equal(await tc.addLinks(pid, ['link add nc-ifb-eth0 type ifb', 'link set dev nc-ifb-eth0 up']), undefined);
    assert.equal(ns.ifb, true);
  });
});
