/** The process's SIGTERM and SIGINT, and the run's Stop connected to them. */
import { Stop } from '../model/stop.js';
import type { Signals } from '../ports.js';

export const realSignals: Signals = {
  on: (s, h) => process.on(s, h),
  off: (s, h) => process.off(s, h),
};

/**
 * The run's Stop, stopped by the first SIGTERM or SIGINT. While it is held the signals no longer end the
 * process (a second one does not interrupt a revert); `dispose` gives them back.
 */
export function stopOnSignals(signals: Signals): { readonly stop: Stop; readonly dispose: () => void } {
  const stop = new Stop();
  const handlers = (['SIGTERM', 'SIGINT'] as const).map((s) => [s, () => { stop.receive(s); }] as const);
  for (const [s, h] of handlers) signals.on(s, h);
  return { stop, dispose: () => { for (const [s, h] of handlers) signals.off(s, h); } };
}
