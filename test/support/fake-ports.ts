/** Fake ports for the unit tests: clock, process signals, logger, processes, files; and the deps object of a run. */
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { StopSignalName } from '../../src/model/stop.ts';
import type { Deps, Files, KubeApi, Logger, Resolver } from '../../src/ports.ts';
import type { Host } from '../../src/cli/host.ts';
import { realFiles } from '../../src/host/files.ts';
import { createLogger } from '../../src/host/log.ts';
import { stopOnSignals } from '../../src/host/signals.ts';
import { FakeNetns } from './fake-tc.ts';

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

export function memoryLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger('debug', (l) => { lines.push(JSON.parse(l) as LogLine); });
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
  /** The real `exists` and `findExecutable`, with this PATH (a fake runtime's bin); default: nothing exists. */
  searchPath?: string;
  kube?: KubeApi;
  resolver?: Resolver;
}

/** A Kubernetes API whose every call throws: a test that must not reach the API says so. */
export function refusingKube(what: string): KubeApi {
  return new Proxy({}, { get: (_t, key) => () => { throw new Error(`${what}: ${String(key)} was called`); } }) as KubeApi;
}

/**
 * The ports of one run against one fake namespace (its TcPort and its namespace identity), with a Stop that
 * the fake signals stop. `host` is the same without the Stop, for the composition root (`run(argv, io, () => host)`).
 */
export function fakeDeps(ns: FakeNetns = new FakeNetns(), opts: FakeDepsOptions = {}) {
  const clock = opts.clock ?? new FakeClock();
  const signals = opts.signals ?? new FakeSignals();
  const { log, lines } = memoryLogger();
  const real = opts.searchPath !== undefined ? realFiles(opts.searchPath) : undefined;
  const files: Files = {
    readText: (p) => {
      if (opts.readText) { const t = opts.readText(p); if (t !== undefined) return t; }
      if (p.startsWith('/proc/')) throw new Error(`ENOENT: ${p} (fake)`);
      return readFileSync(p, 'utf8');
    },
    list: (p) => opts.list?.(p) ?? [],
    exists: (p) => real?.exists(p) ?? false,
    findExecutable: (name) => real?.findExecutable(name),
    namespaceId: async (p) => {
      await Promise.resolve();
      if (opts.nsId) return opts.nsId(p);
      if (p === '/proc/1/ns/net' || p === '/proc/self/ns/net') return 'net:[4026531840]'; // the node's (and the runner's): not the target's
      return ns.exists && p.length > 0 ? 'net:[4026532001]' : undefined;
    },
  };
  const host: Host = {
    exec: () => Promise.reject(new Error('no exec in this test')),
    clock, signals, log, files, tc: ns,
    processes: opts.processes ?? new FakeProcesses(),
    kube: opts.kube ?? refusingKube('no Kubernetes API in this test'),
    resolver: opts.resolver ?? (() => { throw new Error('no DNS in this test'); }),
    random: () => 0.5,
  };
  const { stop } = stopOnSignals(signals);
  const deps: Deps = { ...host, stop };
  return { deps, host, clock, signals, lines, ns, stop };
}
