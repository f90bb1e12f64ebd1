/**
 * What the effect worker (src/effect/worker.ts, run inside the target's namespace) is asked and answers.
 * Types and one constant only, so the worker, which loads nothing of netchaos, and its caller agree on one shape.
 */

/** The hidden first argument that makes the CLI's entry (src/cli.ts) run the worker instead of a command. */
export const EFFECT_PROBE_COMMAND = '__effect-probe';

/** One dependency to probe: a TCP connect to address:port, or a ping to address. */
export interface WorkerDestination {
  readonly id: string;
  readonly kind: 'tcp' | 'icmp';
  readonly address: string;
  readonly port?: number;
  readonly samples: number;
  readonly gapMs: number;
}

export interface WorkerRequest {
  readonly budgetMs: number;
  readonly destinations: readonly WorkerDestination[];
}

export interface WorkerResult {
  /** One entry per sample: ms, or null (no answer in time). */
  readonly samples: (number | null)[];
  /** Errors other than a timeout (ECONNREFUSED, EHOSTUNREACH, …) by code, with how often. */
  readonly errors: Record<string, number>;
  /** The probe could not run at all (e.g. ping missing or not permitted). */
  readonly error?: string;
}
