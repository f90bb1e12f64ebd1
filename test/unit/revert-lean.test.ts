import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/cli/main.ts';
import { leanRevertOptions } from '../../src/cli/revert-args.ts';
import { runRevert } from '../../src/cli/revert-lean.ts';
import { FakeNetns } from '../support/fake-tc.ts';
import { FakeSignals, fakeDeps } from '../support/fake-ports.ts';
import { type ParityCase, named, parityTests } from '../support/parity.ts';

type Setup = (ns: FakeNetns) => void;

/** One command line through the full CLI (commander) or the lean revert, on a fresh fake host: what a user sees of it. */
async function through(path: 'full' | 'lean', argv: string[], env: Record<string, string>, setup: Setup) {
  let stdout = '';
  let stderr = '';
  const ns = new FakeNetns();
  setup(ns);
  const signals = new FakeSignals();
  const f = fakeDeps(ns, { signals: new FakeSignals() });
  const host = { ...f.host, signals };
  const io = { stdout: (t: string) => { stdout += t; }, stderr: (t: string) => { stderr += t; }, env };
  let code: number;
  if (path === 'full') {
    code = await run(argv, io, () => host);
  } else {
    const opts = leanRevertOptions(argv);
    assert.ok(opts, `the lean revert must take ${argv.join(' ')}`);
    code = await runRevert(opts, io, () => host);
  }
  // What differs from run to run by design: the time of a line, the time a revert took.
  const lines = f.lines.map((l) => JSON.stringify({ ...l, time: 't', ...(l['revertMs'] === undefined ? {} : { revertMs: 'ms' }) }).replace(/in \d+ ms/, 'in N ms'));
  return { code, stdout, stderr, lines, calls: JSON.stringify(ns.calls), root: JSON.stringify(ns.root), listeners: signals.listeners('SIGTERM') };
}

const ours: Setup = Object.assign((ns: FakeNetns) => { ns.root = { kind: 'prio', handle: '4e43:' }; }, { what: 'our tree' });
const none: Setup = Object.assign(() => {}, { what: 'nothing of ours' });

describe('netchaos revert: the lean path (dist/cli-revert.cjs) does what the full CLI does', () => {
  const cases: ParityCase<Setup>[] = [
    [['revert', '--pid', '4242'], {}, none],
    [['revert', '--pid', '4242'], {}, ours],
    [['revert', '--pid=4242', '--interface=eth0'], {}, ours],
    [['revert', '--netns', '/run/netns/x', '--interface', 'eth1'], {}, ours],
    [['revert', '--interface', 'eth0', '--pid', '4242', '--log-level', 'debug'], {}, ours],
    [['revert', '--pid', '4242', '--log-level', 'error'], {}, ours],
    [['revert', '--pid', '4242'], { NETWORK_INTERFACE: 'eth1', LOG_LEVEL: 'error' }, ours],
    [['revert', '--pid', '4242', '--interface', 'eth0'], { NETWORK_INTERFACE: 'eth1' }, ours],
    [['revert', '--pid', '4242'], { NETWORK_INTERFACE: '' }, ours],
    [['revert', '--pid', '4242'], {}, named('a revert that keeps failing', (ns) => { ours(ns); ns.revertFailures = 5; })],
    [['revert', '--pid', '4242'], {}, named('no such process', (ns) => { ours(ns); ns.exists = false; })],
    [['revert', '--pid', '4242'], {}, named('a foreign root', (ns) => { ns.root = { kind: 'tbf', handle: '1:' }; })],
    // bad input: exit 2, the same messages
    [['revert'], {}, ours],
    [['revert', '--pid', 'abc'], {}, ours],
    [['revert', '--pid='], {}, ours],
    [['revert', '--pid', '0'], {}, ours],
    [['revert', '--netns', 'relative/path'], {}, ours],
    [['revert', '--pid', '1', '--netns', '/run/netns/x'], {}, ours],
    [['revert', '--pid', '4242', '--interface', 'eth 0'], {}, ours],
    [['revert', '--pid', '4242'], { NETWORK_INTERFACE: 'a;b' }, ours],
    [['revert', '--pid', '4242', '--log-level', 'loud'], {}, ours],
  ];
  parityTests(cases, through, 'lean', { title: 'the cases above cover a removal, nothing to remove, bad input, a failed revert, a missing target and a gone namespace', codes: [0, 1, 2, 3, 4] });
});

describe('which revert command lines the entry sends to the lean path', () => {
  test('plain ones, as the options commander parses', () => {
    assert.deepEqual(leanRevertOptions(['revert', '--pid', '7', '--interface=eth1', '--log-level', 'warn']), { pid: '7', interface: 'eth1', logLevel: 'warn' });
    assert.deepEqual(leanRevertOptions(['revert', '--netns=/run/netns/a=b']), { netns: '/run/netns/a=b' });
    assert.deepEqual(leanRevertOptions(['revert']), {});
  });
  test('anything else goes to the full CLI (help, other commands, unknown, repeated, missing or dash values, arguments)', () => {
    for (const argv of [
      [], ['inject', '--pid', '1'], ['help', 'revert'], ['revert', '--help'], ['revert', '-h'], ['revert', '--pid', '1', '--version'],
      ['revert', '--pid'], ['revert', '--pid', '-1'], ['revert', '--pid', '1', '--pid', '2'], ['revert', '--pid=1', '--pid', '2'],
      ['revert', '--pid', '1', 'extra'], ['revert', '--pid', '1', '--'], ['revert', '--pid-file', '/x'], ['revert', '--container-id', 'abc'],
      ['revert', '--Pid', '1'], ['revert', '=1'], ['revert', '--interface', '--pid', '1'],
    ]) assert.equal(leanRevertOptions(argv), undefined, argv.join(' '));
  });
  test('what it leaves to commander, commander refuses (exit 2) or answers (help, exit 0)', async () => {
    const full = (argv: string[]) => through('full', argv, {}, ours);
    assert.equal((await full(['revert', '--pid', '1', 'extra'])).code, 2);
    assert.equal((await full(['revert', '--pid'])).code, 2);
    assert.equal((await full(['revert', '--pid-file', '/x'])).code, 2);
    const help = await full(['revert', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--interface <name>/);
  });
});
