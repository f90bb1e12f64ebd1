import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/cli/main.ts';
import { run as runInject, injectActions } from '../../src/cli/main-inject.ts';
import { INJECT_COMMANDS, isInjectCommandLine } from '../../src/cli/inject-commands.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { FakeSignals, fakeDeps } from '../support/fake-ports.ts';
import { type ParityCase, named, parityTests } from '../support/parity.ts';

type Setup = (ns: FakeNetns, f: ReturnType<typeof fakeDeps> & { signals: FakeSignals }) => void;

/** One command line through the whole CLI (dist/cli-main.cjs) or the inject bundle's (dist/cli-inject.cjs), on a fresh fake host. */
async function through(path: 'full' | 'inject', argv: string[], env: Record<string, string>, setup: Setup) {
  let stdout = '';
  let stderr = '';
  const ns = new FakeNetns();
  const signals = new FakeSignals();
  const f = fakeDeps(ns, { signals: new FakeSignals() });
  setup(ns, { ...f, signals });
  const host = { ...f.host, signals };
  const io = { stdout: (t: string) => { stdout += t; }, stderr: (t: string) => { stderr += t; }, env };
  const code = await (path === 'full' ? run : runInject)(argv, io, () => host);
  // What differs from run to run by design: the time of a line and the run's random id (in the owner marker's words
  // and node, the dead-man's log file).
  const runIds = (t: string): string => t.replace(/\b[0-9a-f]{16}\b/g, 'RUNID').replace(/7ff::[0-9a-f]+/g, '7ff::N').replace(/0x[0-9a-f]{8} 0xffffffff at (8|12)/g, 'ID at $1');
  const lines = f.lines.map((l) => runIds(JSON.stringify({ ...l, time: 't' })));
  return { code, stdout, stderr, lines, calls: runIds(JSON.stringify(ns.calls)), ops: ns.tcOps.join(','), listeners: signals.listeners('SIGTERM') };
}

const none: Setup = Object.assign(() => {}, { what: 'a kernel-default root' });

describe('plan, inject and watchdog: the inject bundle (dist/cli-inject.cjs) does what the whole CLI does', () => {
  const cases: ParityCase<Setup>[] = [
    [['plan', '--destination-ips', '192.0.2.11,2001:db8::12|8080', '--latency', '100'], {}, none],
    [['plan', '--destination-ips', '192.0.2.11', '--latency', '100', '--output', 'json'], {}, none],
    [['plan', '--pid', '4242'], { DESTINATION_IPS: '192.0.2.11', FAULTS: 'loss=5@192.0.2.12' }, none],
    [['plan', '--pid', '4242', '--destination-ips', '192.0.2.11'], {}, named('our tree', (ns) => { ns.root = { kind: 'prio', handle: '4e43:' }; })],
    [['plan', '--help'], {}, none],
    [['inject', '--help'], {}, none],
    [['inject', '--pid', '4242', '--duration', '3'], { DESTINATION_IPS: '192.0.2.11', NETWORK_LATENCY: '100' }, none],
    [['inject', '--pid', '4242'], { DESTINATION_IPS: '192.0.2.11' }, named('SIGTERM mid-run', (_ns, f) => { f.clock.onSleep = () => { f.signals.send('SIGTERM'); }; })],
    [['inject', '--pid', '4242'], {}, named('a foreign root', (ns) => { ns.root = { kind: 'tbf', handle: '1:' }; })],
    // bad input: exit 2, the same messages
    [['plan'], {}, none],
    [['plan', '--latncy', '5'], {}, none],
    [['plan', 'extra'], {}, none],
    [['inject', '--pid', '4242', '--latency', '-5'], { DESTINATION_IPS: '300.1.1.1' }, none],
    [['inject', '--pid', '1', '--netns', '/run/netns/x'], {}, none],
    [['inject', '--pid', '4242', '--fault', 'latency=100@192.0.2.11', '--fault', 'loss=5@192.0.2.11'], {}, none],
    [['watchdog', '--run-id', '0123456789abcdef'], {}, none],
  ];
  parityTests(cases, through, 'inject', { title: 'the cases above cover a plan, a whole inject, a stop by SIGTERM, a refusal and bad input', codes: [0, 2, 5, 143] });
});

describe('which command lines the entry sends to the inject bundle', () => {
  test('those whose first word is one of its commands, and it has the code of each', () => {
    assert.deepEqual(Object.keys(injectActions).sort(), [...INJECT_COMMANDS].sort());
    for (const argv of [['plan'], ['inject', '--pid', '1'], ['watchdog', '--run-id', 'x'], ['plan', '--help']]) assert.ok(isInjectCommandLine(argv), argv.join(' '));
    for (const argv of [[], ['--version'], ['help', 'plan'], ['run'], ['revert', '--pid', '1'], ['deps'], ['sweep'], ['--log-level', 'debug', 'plan'], ['planx'], ['Plan']]) {
      assert.ok(!isInjectCommandLine(argv), argv.join(' '));
    }
  });
  test('a command it lacks is unknown there (exit 2), as any unknown command: the entry never sends one', async () => {
    const r = await through('inject', ['run'], {}, none);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'run'/);
  });
});
