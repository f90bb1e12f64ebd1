/**
 * The run's one cancellation. Created once per run (src/host/signals.ts connects it to SIGTERM and SIGINT);
 * an internal stop ("another target failed") uses it too. Every wait races `signal`: sleeps, probes, the
 * refresh, helper-pod polling, and any external call given it. A revert never gets it: a stopped run
 * still removes what it changed.
 */
import { RuntimeError } from './errors.js';

export type StopSignalName = 'SIGTERM' | 'SIGINT';

export interface StopReason {
  /** The process signal; an internal stop counts as SIGTERM. */
  readonly signal: StopSignalName;
  /** The phase of the run (of this scope) when it came. */
  readonly phase: string;
  /** Why the run stopped itself, for an internal stop. */
  readonly cause?: string;
}

export class Stop {
  private readonly controller = new AbortController();
  /** Aborts when the run stops. */
  readonly signal: AbortSignal = this.controller.signal;
  /** Where this scope of the run is (`wait`, `revert`…): recorded with the reason. */
  phase = 'start';
  private own: StopReason | undefined;

  /** A child scope (one target of several) stops with its parent and has a phase of its own. */
  constructor(private readonly parent?: Stop) {
    if (parent) {
      const follow = (): void => { this.abort(); };
      if (parent.signal.aborted) follow();
      else parent.signal.addEventListener('abort', follow, { once: true });
    }
  }

  /** Why the run stopped (undefined while it runs), with this scope's phase at that moment. */
  get reason(): StopReason | undefined {
    return this.own;
  }

  /** The process signal that stopped the run; undefined while it runs or when it stopped itself. */
  get received(): StopSignalName | undefined {
    const r = this.root().own;
    return r && r.cause === undefined ? r.signal : undefined;
  }

  get stopped(): boolean {
    return this.signal.aborted;
  }

  /** SIGTERM or SIGINT arrived: the first one counts. */
  receive(signal: StopSignalName): void {
    const root = this.root();
    if (root.signal.aborted) return;
    root.own = { signal, phase: root.phase };
    root.abort();
  }

  /** The run stops itself (e.g. another target failed): the others revert, as on SIGTERM. */
  stopInternally(cause: string): void {
    const root = this.root();
    if (root.signal.aborted) return;
    root.own = { signal: 'SIGTERM', phase: root.phase, cause };
    root.abort();
  }

  /** A scope for one part of the run (one target): same stop, its own phase. */
  child(): Stop {
    return new Stop(this);
  }

  /** Calls `listener` once when the run stops (at once if it has); returns the way to remove it. */
  onStop(listener: (reason: StopReason) => void): () => void {
    const call = (): void => { listener(this.reason ?? { signal: 'SIGTERM', phase: this.phase }); };
    if (this.signal.aborted) {
      call();
      return () => {};
    }
    this.signal.addEventListener('abort', call, { once: true });
    return () => { this.signal.removeEventListener('abort', call); };
  }

  private root(): Stop {
    return this.parent ? this.parent.root() : this;
  }

  private abort(): void {
    if (this.parent) {
      const r = this.parent.root().own;
      if (r) this.own = { ...r, phase: this.phase };
    }
    this.controller.abort();
  }
}

/**
 * `promise`, unless `signal` aborts first: then it rejects at once (the work itself is not undone: a call
 * that cannot be cancelled runs to its end unobserved).
 */
export function untilStopped<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return promise;
  const stopped = (): Error => new RuntimeError(`${what}: not waited for, the run is stopping`);
  if (signal.aborted) return Promise.reject(stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(stopped()); };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e instanceof Error ? e : new Error(String(e))); },
    );
  });
}
