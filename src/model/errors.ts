/**
 * The one error table. Every error netchaos raises carries a `code`; `errorTable` maps each code to the
 * process's exit code and to what Litmus mode writes in the ChaosResult (errorOutput.errorCode and the
 * verdict). Exit codes are part of the interface (README "Exit codes").
 */

export const ExitCode = {
  ok: 0,
  /** Something failed at run time; nothing was left changed. */
  failure: 1,
  /** Bad input (ENV or flag), or input that cannot be planned: nothing was changed. */
  usage: 2,
  /** The revert failed: our tree may still be in the namespace. */
  revertFailed: 3,
  /** The target's network namespace went away during the run (its tree went with it). */
  targetGone: 4,
  /** Preflight refused to touch the namespace (our tree already there, or a foreign root qdisc). */
  refused: 5,
  /** VERIFY_EFFECT: the fault was injected and reverted, but the measured effect is far from the configured one. */
  effectNotVerified: 6,
  /** Stopped by SIGINT; the revert succeeded. */
  interrupted: 130,
  /** Stopped by SIGTERM; the revert succeeded. */
  terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** litmus-go's error types (the ChaosResult's errorOutput.errorCode), and netchaos's EFFECT_CHECK_ERROR. */
export const litmusErrorCodes = [
  'GENERIC_ERROR', 'TARGET_SELECTION_ERROR', 'CONTAINER_RUNTIME_ERROR', 'CHAOS_INJECT_ERROR',
  'CHAOS_REVERT_ERROR', 'STATUS_CHECKS_ERROR', 'EXPERIMENT_ABORTED',
  /** VERIFY_EFFECT found the measured effect far from the configured one (verdict Fail). */
  'EFFECT_CHECK_ERROR',
] as const;
export type LitmusErrorCode = (typeof litmusErrorCodes)[number];

/** What a failure is, as far as the exit code and the Litmus report care. */
export type ErrorCode =
  | 'usage' | 'plan' | 'runtime' | 'refused' | 'target-gone' | 'revert-failed' | 'effect-not-verified'
  | 'target-selection' | 'container-runtime' | 'dependency' | 'health-check' | 'helper-failed';

interface ErrorMeaning {
  readonly exit: ExitCode;
  /**
   * The Litmus errorCode: fixed, or `by-phase` (CHAOS_INJECT_ERROR once the fault may have been applied,
   * GENERIC_ERROR before), or `reported` (the code a helper pod reported, carried by the error).
   */
  readonly litmus: LitmusErrorCode | 'by-phase' | 'reported';
  /** The ChaosResult's verdict: Fail (the experiment ran and the application failed the check) or Error. */
  readonly verdict: 'Fail' | 'Error';
}

export const errorTable = {
  usage: { exit: ExitCode.usage, litmus: 'GENERIC_ERROR', verdict: 'Error' },
  plan: { exit: ExitCode.usage, litmus: 'GENERIC_ERROR', verdict: 'Error' },
  runtime: { exit: ExitCode.failure, litmus: 'by-phase', verdict: 'Error' },
  refused: { exit: ExitCode.refused, litmus: 'by-phase', verdict: 'Error' },
  'target-gone': { exit: ExitCode.targetGone, litmus: 'by-phase', verdict: 'Error' },
  'revert-failed': { exit: ExitCode.revertFailed, litmus: 'CHAOS_REVERT_ERROR', verdict: 'Error' },
  'effect-not-verified': { exit: ExitCode.effectNotVerified, litmus: 'EFFECT_CHECK_ERROR', verdict: 'Fail' },
  'target-selection': { exit: ExitCode.failure, litmus: 'TARGET_SELECTION_ERROR', verdict: 'Error' },
  'container-runtime': { exit: ExitCode.failure, litmus: 'CONTAINER_RUNTIME_ERROR', verdict: 'Error' },
  dependency: { exit: ExitCode.failure, litmus: 'TARGET_SELECTION_ERROR', verdict: 'Error' },
  'health-check': { exit: ExitCode.failure, litmus: 'STATUS_CHECKS_ERROR', verdict: 'Error' },
  'helper-failed': { exit: ExitCode.failure, litmus: 'reported', verdict: 'Error' },
} as const satisfies Record<ErrorCode, ErrorMeaning>;

/** The base of every error netchaos raises on purpose. */
export abstract class NetchaosError extends Error {
  abstract readonly code: ErrorCode;
}

/** Malformed or conflicting input. `variable` names the ENV variable and/or flag. */
export class UsageError extends NetchaosError {
  override readonly name = 'UsageError';
  readonly code = 'usage';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

/** Several usage errors found at once (all of them are reported, not just the first). */
export class UsageErrors extends NetchaosError {
  override readonly name = 'UsageErrors';
  readonly code = 'usage';
  constructor(readonly errors: readonly UsageError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

/**
 * The input cannot be planned with what discovery found (a full u32 table, one address given two faults
 * through a named dependency): nothing was changed. Rules that depend on the input alone are UsageErrors.
 */
export class PlanError extends NetchaosError {
  override readonly name = 'PlanError';
  readonly code = 'plan';
  constructor(
    readonly variable: string,
    /** The message without the variable. */
    readonly detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

/** A failure at run time with a message a user can act on (what, where, what to check). */
export class RuntimeError extends NetchaosError {
  override readonly name: string = 'RuntimeError';
  readonly code: ErrorCode = 'runtime';
}

/** Preflight found the namespace in a state we must not touch. */
export class RefusedError extends RuntimeError {
  override readonly name = 'RefusedError';
  override readonly code = 'refused';
}

/** The target's namespace disappeared during the run. */
export class TargetGoneError extends RuntimeError {
  override readonly name = 'TargetGoneError';
  override readonly code = 'target-gone';
}

/** The revert did not complete; `leftover` says what is left and `command` how to remove it. */
export class RevertError extends RuntimeError {
  override readonly name = 'RevertError';
  override readonly code = 'revert-failed';
  constructor(
    message: string,
    readonly leftover: string,
    readonly command: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** VERIFY_EFFECT: injected and reverted, but the measured effect was far from the configured one. */
export class EffectNotVerifiedError extends RuntimeError {
  override readonly name = 'EffectNotVerifiedError';
  override readonly code = 'effect-not-verified';
}

/** Target selection failed (no match, wrong node, missing container): litmus-go's TARGET_SELECTION_ERROR. */
export class TargetSelectionError extends RuntimeError {
  override readonly name = 'TargetSelectionError';
  override readonly code = 'target-selection';
}

/** The container could not be mapped to a namespace: litmus-go's CONTAINER_RUNTIME_ERROR. */
export class ContainerRuntimeError extends RuntimeError {
  override readonly name = 'ContainerRuntimeError';
  override readonly code = 'container-runtime';
}

/** A named dependency resolved to nothing (Service without endpoints, no pod matched). */
export class DependencyError extends RuntimeError {
  override readonly name = 'DependencyError';
  override readonly code = 'dependency';
}

/** The status check (DEFAULT_HEALTH_CHECK) failed before or after the chaos: Error/STATUS_CHECKS_ERROR, as litmus-go (pkg/status/application.go). */
export class HealthCheckError extends RuntimeError {
  override readonly name = 'HealthCheckError';
  override readonly code = 'health-check';
}

/** One or more helper pods failed; `reported` is the Litmus errorCode for the ChaosResult. */
export class HelperFailure extends RuntimeError {
  override readonly name = 'HelperFailure';
  override readonly code = 'helper-failed';
  constructor(message: string, readonly reported: LitmusErrorCode) {
    super(message);
  }
}

/** The text of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function meaningOf(error: unknown): ErrorMeaning {
  return error instanceof NetchaosError ? errorTable[error.code] : errorTable.runtime;
}

export function exitCodeOf(error: unknown): ExitCode {
  return meaningOf(error).exit;
}

/** The ChaosResult's errorCode for a failure; `injected`: the fault may have been applied before it. */
export function litmusCodeOf(error: unknown, injected: boolean): LitmusErrorCode {
  const { litmus } = meaningOf(error);
  if (litmus === 'reported') return error instanceof HelperFailure ? error.reported : 'GENERIC_ERROR';
  if (litmus === 'by-phase') return injected ? 'CHAOS_INJECT_ERROR' : 'GENERIC_ERROR';
  return litmus;
}

/** The ChaosResult's verdict for a failure. */
export function verdictOf(error: unknown): 'Fail' | 'Error' {
  return meaningOf(error).verdict;
}
