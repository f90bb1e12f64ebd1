import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/cli/main.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { FakeSignals, fakeDeps } from '../support/fake-ports.ts';

async function cli(argv: string[], env: Record<string, string> = {}, ns = new FakeNetns(), setup: (f: ReturnType<typeof fakeDeps>) => void = () => {}) {
  let stdout = '';
  let stderr = '';
  // The composition root connects its own Stop to these signals (the harness's own Stop is not used).
  const signals = new FakeSignals();
  const f = fakeDeps(ns, { signals: new FakeSignals() });
  const host = { ...f.host, signals };
  setup({ ...f, signals });
  const code = await run(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env }, () => host);
  return { code, stdout, stderr, ns, lines: f.lines, signals };
}

describe('netchaos command line', () => {
  test('bad input exits 2 before anything runs, naming the variable and value', async () => {
    const r = await cli(['inject', '--pid', '4242', '--latency', '-5'], { DESTINATION_IPS: '300.1.1.1' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing was changed/);
    assert.match(r.stderr, /--latency: expected a non-negative number of milliseconds, got "-5"/);
    assert.match(r.stderr, /DESTINATION_IPS: "300.1.1.1" is not an IPv4 or IPv6 address/);
    assert.deepEqual(r.ns.calls, []);
  });
  test('conflicting and missing targets exit 2', async () => {
    assert.equal((await cli(['inject', '--pid', '1', '--netns', '/run/netns/x'])).code, 2);
    const missing = await cli(['inject']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /give --pid <PID> or --netns <PATH>/);
    assert.equal((await cli(['inject', '--pid', 'abc'])).code, 2);
    assert.equal((await cli(['revert', '--netns', 'relative/path'])).code, 2);
  });
  test('an unknown flag exits 2', async () => {
    const r = await cli(['inject', '--pid', '1', '--latncy', '5']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option '--latncy'/);
  });
  test('--help lists every variable with its ENV name and exits 0', async () => {
    const r = await cli(['inject', '--help']);
    assert.equal(r.code, 0);
    for (const name of ['NETWORK_LATENCY', 'DESTINATION_IPS', 'FAULTS', 'TOTAL_CHAOS_DURATION', 'NETWORK_PACKET_LOSS_PERCENTAGE']) assert.match(r.stdout, new RegExp(`env ${name}`));
  });
  test('a flag overrides its ENV variable', async () => {
    const r = await cli(['plan', '--latency', '300', '--output', 'json'], { NETWORK_LATENCY: '100', DESTINATION_IPS: '192.0.2.11' });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { plan: { bands: { netemArgs: string[] }[] } };
    assert.deepEqual(out.plan.bands[0]?.netemArgs, ['limit', '100000', 'delay', '300ms']);
  });
  test('plan without a target changes and runs nothing, and prints the batch', async () => {
    const r = await cli(['plan', '--destination-ips', '192.0.2.11|8080', '--latency', '100']);
    assert.equal(r.code, 0);
    assert.deepEqual(r.ns.calls, []);
    assert.match(r.stdout, /192\.0\.2\.11\/32 dport 8080 → band 4/);
    assert.match(r.stdout, /qdisc add dev eth0 root handle 4e43: prio bands 4/);
  });
  test('plan with a target reads (only reads) the current root and says inject would be refused', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'prio', handle: '4e43:' };
    const r = await cli(['plan', '--pid', '4242', '--destination-ips', '192.0.2.11'], {}, ns);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Current root qdisc: prio 4e43:/);
    assert.match(r.stdout, /inject would be REFUSED: a netchaos tree is already there/);
    assert.deepEqual(ns.tcOps, ['show']);
  });
  test('inject runs the whole cycle and exits 0; its signal handlers are removed afterwards', async () => {
    const r = await cli(['inject', '--pid', '4242', '--duration', '3'], { DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.ns.tcOps, ['apply', 'revert']);
    assert.ok(r.lines.some((l) => l.event === 'reverted'));
    assert.deepEqual([r.signals.listeners('SIGTERM'), r.signals.listeners('SIGINT')], [0, 0]);
  });
  test('SIGTERM mid-run exits 143 after the revert', async () => {
    const r = await cli(['inject', '--pid', '4242'], { DESTINATION_IPS: '192.0.2.11' }, new FakeNetns(),
      (f) => { f.clock.onSleep = () => { f.signals.send('SIGTERM'); }; });
    assert.equal(r.code, 143);
    assert.deepEqual(r.ns.tcOps, ['apply', 'revert']);
  });
  test('a refused preflight exits 5', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'tbf', handle: '1:' };
    const r = await cli(['inject', '--pid', '4242'], {}, ns);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /not a kernel default/);
  });
  test('revert is idempotent: nothing to remove is exit 0, and says so', async () => {
    const r = await cli(['revert', '--pid', '4242']);
    assert.equal(r.code, 0);
    assert.ok(r.lines.some((l) => /nothing of ours to remove: root qdisc is noqueue 0:/.test(l.msg)));
  });
  test('revert removes our tree', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'prio', handle: '4e43:' };
    const r = await cli(['revert', '--pid', '4242', '--interface', 'eth0'], {}, ns);
    assert.equal(r.code, 0);
    assert.equal(ns.root.handle, '0:');
    assert.ok(r.lines.some((l) => /reverted in \d+ ms: root qdisc is noqueue 0: again/.test(l.msg)));
  });
  test('revert never removes a root that is not ours', async () => {
    const ns = new FakeNetns();
    ns.root = { kind: 'tbf', handle: '1:' };
    const r = await cli(['revert', '--pid', '4242'], {}, ns);
    assert.equal(r.code, 0);
    assert.deepEqual(ns.root, { kind: 'tbf', handle: '1:' });
  });
});
