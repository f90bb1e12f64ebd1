/** Test helpers: snapshot files, a fake namespace that tc talks to, fake clock and signals. */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { type Deps, type ExecResult, type StopSignalName, realExec } from '../../src/deps.ts';

const snapshotDir = new URL('./snapshots/', import.meta.url);

/** Compares text with test/unit/snapshots/<name>; UPDATE_SNAPSHOTS=1 rewrites it. */
export function matchSnapshot(name: string, actual: string): void {
  const file = new URL(name, snapshotDir);
  if (process.env['UPDATE_SNAPSHOTS'] === '1' || !existsSync(file)) {
    if (process.env['CI'] && !existsSync(file)) assert.fail(`snapshot ${name} is missing (run UPDATE_SNAPSHOTS=1 npm run test:unit and review it)`);
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `snapshot ${name} differs (UPDATE_SNAPSHOTS=1 to accept)`);
}

export interface Call {
  readonly file: string;
  readonly args: readonly string[];
  readonly input: string | undefined;
}

/**
 * A fake network namespace with one interface and a root qdisc, driven by the tc commands we send.
 * `failOn(n)` makes the n-th tc exec fail; `batchFailsAt` makes the apply batch fail at a line.
 */
export class FakeNamespace {
  root: { kind: string; handle: string } = { kind: 'noqueue', handle: '0:' };
  readonly calls: Call[] = [];
  exists = true;
  interfaces = ['lo', 'eth0'];
  batchFailsAt: number | undefined;
  /** Revert batches fail this many times before one works. */
  revertFailures = 0;
  /** The owner marker's four keys (hex) of the tree in place, as the apply batch wrote them. */
  marker: string[] | undefined;
  /** What `tc filter show … prio 9` prints for the marker (as iproute2 6.1 does). */
  markerText(): string {
    if (!this.marker) return '';
    return ['filter protocol [20035] u32 chain 0 ', 'filter protocol [20035] u32 chain 0 fh 7ff: ht divisor 1 ',
      'filter protocol [20035] u32 chain 0 fh 7ff::1 order 1 key ht 7ff bkt 0 not_in_hw ',
      ...this.marker.map((k, i) => `  match ${k}/ffffffff at ${i * 4}`), 'filter protocol [20035] u32 chain 0 fh 801: ht divisor 1 ', ''].join('\n');
  }
  /** Called after each exec, e.g. to send a signal mid-run. */
  afterExec: ((call: Call) => void) | undefined;
  /** The ingress slot of eth0 (DIRECTION=ingress/both): nothing, our redirect to nc-ifb-eth0, or someone else's. */
  ingress: 'none' | 'ours' | 'foreign' = 'none';
  /** Whether our ifb device nc-ifb-eth0 exists. */
  ifb = false;

  readonly exec = async (file: string, args: readonly string[], options?: { input?: string }): Promise<ExecResult> => {
    const call = { file, args, input: options?.input };
    this.calls.push(call);
    const result = this.run(call);
    this.afterExec?.(call);
    return Promise.resolve(result);
  };

  private run({ file, args, input }: Call): ExecResult {
    assert.equal(file, 'nsenter');
    const sep = args.indexOf('--');
    const [bin, ...rest] = args.slice(sep + 1);
    if (!this.exists) return { exitCode: 1, stdout: '', stderr: 'nsenter: cannot open /proc/4242/ns/net: No such file or directory\n' };
    if (bin === 'ip' && rest.includes('-batch')) return this.ipBatch(input ?? '');
    if (bin === 'ip') return { exitCode: 0, stdout: this.interfaces.map((n, i) => `${i + 1}: ${n}: <UP> mtu 1500`).join('\n'), stderr: '' };
    assert.equal(bin, 'tc');
    const show = (dev: string): ExecResult => this.interfaces.includes(dev)
      ? { exitCode: 0, stdout: JSON.stringify([{ ...this.root, root: true, refcnt: 2, options: {} }]) + '\n', stderr: '' }
      : { exitCode: 1, stdout: '', stderr: `Cannot find device "${dev}"\n` };
    if (rest.join(' ') === '-j qdisc show') {
      return { exitCode: 0, stdout: JSON.stringify([{ kind: 'noqueue', handle: '0:', dev: 'lo', root: true }, { ...this.root, dev: 'eth0', root: true }]) + '\n', stderr: '' };
    }
    if (rest[0] === '-j' && rest[1] === 'qdisc' && rest[2] === 'show') return show(rest[4] ?? '');
    if (rest[0] === 'filter' && rest[1] === 'show' && rest.slice(4).join(' ') === 'parent 4e43: prio 9') {
      return { exitCode: 0, stdout: this.root.handle === '4e43:' ? this.markerText() : '', stderr: '' };
    }
    if (rest[0] === '-batch') {
      const lines = (input ?? '').trimEnd().split('\n');
      if (this.batchFailsAt !== undefined) {
        if (this.batchFailsAt > 1) this.root = { kind: 'prio', handle: '4e43:' };
        return { exitCode: 1, stdout: '', stderr: `Error: Specified qdisc kind is unknown.\nCommand failed -:${this.batchFailsAt}\n` };
      }
      if (lines[0]?.startsWith('qdisc add') && this.root.handle !== '0:') {
        return { exitCode: 2, stdout: '', stderr: 'Error: Exclusivity flag on, cannot modify.\nCommand failed -:1\n' };
      }
      if (lines.some((l) => /^qdisc add dev \S+ handle ffff: ingress$/.test(l))) this.ingress = 'ours';
      if (lines.some((l) => /^qdisc (add|replace) dev eth0 root handle 4e43:/.test(l))) this.root = { kind: 'prio', handle: '4e43:' };
      this.marker = lines.find((l) => l.includes('handle 7ff::1 '))?.match(/0x[0-9a-f]{8}(?= 0xffffffff at \d+)/g)?.map((w) => w.slice(2));
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    if (rest.join(' ') === '-j -force -batch -' && /^(qdisc show|qdisc del dev \S+ ingress|filter del)/.test(input ?? '')) return this.ingressBatch(input ?? '');
    if (rest.join(' ') === '-j -force -batch -') {
      const dev = /dev (\S+)/.exec(input ?? '')?.[1] ?? '';
      if (!this.interfaces.includes(dev)) return { exitCode: 1, stdout: '', stderr: `Cannot find device "${dev}"\nCommand failed -:1\n` };
      if (this.revertFailures > 0) {
        this.revertFailures--;
        return { exitCode: 1, stdout: show(dev).stdout, stderr: 'Error: RTNETLINK answers: Device or resource busy\nCommand failed -:1\n' };
      }
      let stderr = '';
      if (this.root.handle === '4e43:') this.root = { kind: 'noqueue', handle: '0:' };
      else stderr = 'Error: Invalid handle.\nCommand failed -:1\n';
      return { exitCode: stderr ? 1 : 0, stdout: show(dev).stdout, stderr };
    }
    throw new Error(`unexpected tc call: ${rest.join(' ')}`);
  }

  private ipBatch(input: string): ExecResult {
    if (input.startsWith('link add')) {
      this.ifb = true;
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    const existed = this.ifb;
    this.ifb = false;
    return { exitCode: existed ? 0 : 1, stdout: '[]\n', stderr: existed ? '' : 'Cannot find device "nc-ifb-eth0"\nCommand failed -:1\n' };
  }

  /** The ingress side's reads and deletes (`tc -j -force -batch -`). */
  private ingressBatch(input: string): ExecResult {
    if (input.startsWith('qdisc del dev eth0 ingress')) this.ingress = 'none';
    const offset = /^(qdisc|filter) del/.test(input) ? 1 : 0;
    const qdiscs = [{ ...this.root, root: true, refcnt: 2, options: {} }, ...(this.ingress === 'none' ? [] : [{ kind: this.ingress === 'ours' ? 'ingress' : 'clsact', handle: 'ffff:', parent: 'ffff:fff1', options: {} }])];
    const filters = this.ingress === 'ours'
      ? [{ parent: 'ffff:', protocol: 'all', pref: 20035, kind: 'u32', chain: 0 }, { parent: 'ffff:', protocol: 'all', pref: 20035, kind: 'u32', chain: 0, options: { fh: '800::800', actions: [{ order: 1, kind: 'mirred', mirred_action: 'redirect', direction: 'egress', to_dev: 'nc-ifb-eth0' }] } }]
      : this.ingress === 'foreign' ? [{ parent: 'ffff:', protocol: 'all', pref: 1, kind: 'bpf', chain: 0 }] : [];
    const out = [JSON.stringify(qdiscs), JSON.stringify(filters), ...(this.ifb ? [JSON.stringify([{ kind: 'prio', handle: '4e43:', root: true }])] : [])];
    return { exitCode: this.ifb ? 0 : 1, stdout: out.join('\n') + '\n', stderr: this.ifb ? '' : `Cannot find device "nc-ifb-eth0"\nCommand failed -:${3 + offset}\n` };
  }

  /** The tc exec calls, as short strings, for asserting the order of operations. */
  get tcOps(): string[] {
    return this.calls.map((c) => {
      const rest = c.args.slice(c.args.indexOf('--') + 1);
      if (rest.includes('-batch')) return (c.input ?? '').startsWith('qdisc del') ? 'revert' : 'apply';
      return rest.includes('show') ? 'show' : rest.join(' ');
    });
  }
}

export class FakeClock {
  t = 1_000_000;
  readonly sleeps: number[] = [];
  /** Runs before each sleep returns, with the virtual time after it. */
  onSleep: ((t: number) => void) | undefined;
  now = (): number => this.t;
  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    if (signal?.aborted) return;
    this.t += ms;
    this.onSleep?.(this.t);
    await Promise.resolve();
  };
}

export class FakeSignals {
  private readonly emitter = new EventEmitter();
  on = (s: StopSignalName, h: () => void): void => { this.emitter.on(s, h); };
  off = (s: StopSignalName, h: () => void): void => { this.emitter.off(s, h); };
  send(s: StopSignalName): void { this.emitter.emit(s); }
  listeners(s: StopSignalName): number { return this.emitter.listenerCount(s); }
}

export interface LogLine { level: string; msg: string; event?: string; [k: string]: unknown }

export function memoryLogger(): { log: Deps['log']; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  const log = pino({ level: 'debug', base: null, formatters: { level: (label) => ({ level: label }) } }, stream);
  return { log, lines };
}

/** Detached processes that are only recorded (the dead-man watchdog), and kills. */
export class FakeProcesses {
  readonly started: { file: string; args: readonly string[]; logPath: string | undefined; pid: number }[] = [];
  readonly killed: { pid: number; signal: string }[] = [];
  private next = 7000;
  detach = (file: string, args: readonly string[], logPath: string | undefined): number => {
    const pid = this.next++;
    this.started.push({ file, args, logPath, pid });
    return pid;
  };
  kill = (pid: number, signal: string): boolean => {
    this.killed.push({ pid, signal });
    return true;
  };
}

export interface FakeDepsOptions {
  clock?: FakeClock;
  signals?: FakeSignals;
  /** The identity of the target's namespace file (default: net:[4026532001] while it exists); gets the path. */
  nsId?: (path: string) => string | undefined;
  processes?: FakeProcesses;
  /** Directory listings (/proc, /var/run/netns) for namespace lookups; default: empty. */
  list?: (path: string) => string[] | undefined;
  /** Text of fake files (e.g. /proc/1/comm); undefined = the real file, except under /proc. */
  readText?: (path: string) => string | undefined;
}

export function fakeDeps(ns: FakeNamespace, opts: FakeDepsOptions = {}) {
  const clock = opts.clock ?? new FakeClock();
  const signals = opts.signals ?? new FakeSignals();
  const { log, lines } = memoryLogger();
  const deps: Deps = {
    exec: ns.exec,
    clock,
    signals,
    log,
    processes: opts.processes ?? new FakeProcesses(),
    files: {
      readText: (p) => {
        if (opts.readText) { const t = opts.readText(p); if (t !== undefined) return t; }
        if (p.startsWith('/proc/')) throw new Error(`ENOENT: ${p} (fake)`);
        return readFileSync(p, 'utf8');
      },
      list: (p) => opts.list?.(p) ?? [],
      namespaceId: async (p) => {
        await Promise.resolve();
        if (opts.nsId) return opts.nsId(p);
        return ns.exists && p.length > 0 ? 'net:[4026532001]' : undefined;
      },
    },
  };
  return { deps, clock, signals, lines };
}

/**
 * A container runtime for the Litmus tests, in `dir`: a listening unix socket and a fake crictl in
 * `<dir>/bin` that prints real containerd `inspect` JSON and fails (exit 64) on any other arguments
 * than `--runtime-endpoint unix://<socket> inspect --output json <id>` (any id when `id` is not given).
 */
export async function fakeRuntime(dir: string, opts: { id?: string } = {}): Promise<{ bin: string; socket: string; close: () => void }> {
  const bin = join(dir, 'bin');
  const socket = join(dir, 'containerd.sock');
  mkdirSync(bin);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  copyFileSync(new URL('./fixtures/crictl-inspect-containerd.json', import.meta.url), join(dir, 'inspect.json'));
  const expected = `--runtime-endpoint unix://${socket} inspect --output json`;
  const check = opts.id !== undefined ? `[ "$*" = "${expected} ${opts.id}" ]` : `[ "$1 $2 $3 $4 $5" = "${expected}" ]`;
  writeFileSync(join(bin, 'crictl'), `#!/bin/sh
${check} || { echo "unexpected: $*" >&2; exit 64; }
cat "${dir}/inspect.json"
`);
  chmodSync(join(bin, 'crictl'), 0o755);
  return { bin, socket, close: () => { server.close(); } };
}

/** Runs the fake crictl in `bin` for real; every other binary goes to the fake namespace as before. */
export function withRealCrictl(deps: Deps, bin: string): void {
  const exec = deps.exec;
  Object.assign(deps, { exec: (file: string, args: readonly string[], o?: { input?: string }) => (file === join(bin, 'crictl') ? realExec(file, args, o) : exec(file, args, o)) });
}
