/**
 * The few error types the program raises; `exitCodeOf` maps each to its exit code in one place.
 * Exit codes are part of the interface (README "Exit codes").
 */
export const ExitCode = {
  ok: 0,
  /** Something failed at run time; nothing was left changed. */
  failure: 1,
  /** Bad input (ENV or flag); nothing was changed. */
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

/** Malformed or conflicting input. `variable` names the ENV variable and/or flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

/** Several usage errors found at once (all of them are reported, not just the first). */
export class UsageErrors extends Error {
  override readonly name = 'UsageErrors';
  constructor(readonly errors: readonly UsageError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

/** A failure at run time with a message a user can act on (what, where, what to check). */
export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
}

/** Preflight found the namespace in a state we must not touch. */
export class RefusedError extends RuntimeError {
  override readonly name = 'RefusedError';
}

/** The target's namespace disappeared during the run. */
export class TargetGoneError extends RuntimeError {
  override readonly name = 'TargetGoneError';
}

/** The revert did not complete; `leftover` says what is left and `command` how to remove it. */
export class RevertError extends RuntimeError {
  override readonly name = 'RevertError';
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
}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof EffectNotVerifiedError) return ExitCode.effectNotVerified;
  if (error instanceof UsageError || error instanceof UsageErrors) return ExitCode.usage;
  if (error instanceof RevertError) return ExitCode.revertFailed;
  if (error instanceof TargetGoneError) return ExitCode.targetGone;
  if (error instanceof RefusedError) return ExitCode.refused;
  return ExitCode.failure;
}
