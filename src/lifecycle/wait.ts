/** The waits of a run (ramp time, the chaos window): in steps, with progress lines, and ended by the run's Stop. */
import type { Deps } from '../ports.js';

export interface CountdownOptions {
  readonly seconds: number;
  /** Called at the progress interval with the seconds left. */
  readonly onProgress: (remainingS: number) => void;
  /** Called after each step with the seconds left; a reason ends the wait early. */
  readonly check?: (remainingS: number) => Promise<string | undefined>;
  /** The longest step (the target's namespace is checked after each). */
  readonly stepMs?: number;
}

/**
 * Sleeps `seconds` in steps of at most `stepMs`, calling `onProgress` at the progress interval and `check`
 * after each step; ends early when the run stops (undefined) or when `check` returns a reason (the reason).
 */
export async function countdown(deps: Pick<Deps, 'clock' | 'stop'>, o: CountdownOptions): Promise<string | undefined> {
  const { clock, stop } = deps;
  const end = clock.now() + o.seconds * 1000;
  const every = progressInterval(o.seconds) * 1000;
  let nextProgress = clock.now() + every;
  for (;;) {
    const now = clock.now();
    if (now >= end || stop.stopped) return undefined;
    await clock.sleep(Math.min(o.stepMs ?? 1000, end - now), stop.signal);
    if (stop.stopped) return undefined;
    const reason = await o.check?.(Math.max(0, Math.ceil((end - clock.now()) / 1000)));
    if (reason !== undefined) return reason;
    if (clock.now() >= nextProgress && clock.now() < end) {
      o.onProgress(Math.ceil((end - clock.now()) / 1000));
      nextProgress += every;
    }
  }
}

/** Seconds between "remaining" log lines: 10 s for a minute, up to 60 s for long runs. */
export function progressInterval(durationS: number): number {
  if (durationS <= 60) return 10;
  if (durationS <= 600) return 30;
  return 60;
}
