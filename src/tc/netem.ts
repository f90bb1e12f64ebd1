/** Renders a Netem value into netem's argument words. Pure. */
import type { Netem } from '../model/spec.js';

/**
 * netem's queue limit, in packets. The kernel default (1000) turns a long delay on a busy
 * connection into loss: at 2000 ms, 1000 packets is only 500 packets/s. 100000 keeps the delay a delay.
 */
export const NETEM_LIMIT = 100_000;

export function formatMs(ms: number): string {
  return Number.isInteger(ms) ? `${ms}ms` : `${Math.round(ms * 1000)}us`;
}

export function formatPercent(p: number): string {
  return `${Number(p.toFixed(4))}%`;
}

export function netemArgs(n: Netem): string[] {
  const args = ['limit', String(NETEM_LIMIT)];
  if (n.delayMs > 0) {
    args.push('delay', formatMs(n.delayMs));
    if (n.jitterMs > 0) {
      args.push(formatMs(n.jitterMs));
      if (n.correlationPct > 0) args.push(formatPercent(n.correlationPct));
      if (n.distribution !== undefined && n.distribution !== 'uniform') args.push('distribution', n.distribution);
    }
  }
  if (n.lossPct > 0) args.push('loss', 'random', formatPercent(n.lossPct));
  if (n.duplicatePct > 0) args.push('duplicate', formatPercent(n.duplicatePct));
  if (n.corruptPct > 0) args.push('corrupt', formatPercent(n.corruptPct));
  if (n.reorderPct > 0) args.push('reorder', formatPercent(n.reorderPct));
  if (n.rate !== undefined) args.push('rate', `${n.rate.value}${n.rate.unit}`);
  return args;
}

/** A short human description: `+100ms ±10ms, 5% loss`. */
export function describeNetem(n: Netem): string {
  const parts: string[] = [];
  if (n.delayMs > 0) parts.push(`+${formatMs(n.delayMs)}${n.jitterMs > 0 ? ` ±${formatMs(n.jitterMs)}` : ''}`);
  if (n.lossPct > 0) parts.push(`${formatPercent(n.lossPct)} loss`);
  if (n.duplicatePct > 0) parts.push(`${formatPercent(n.duplicatePct)} duplicated`);
  if (n.corruptPct > 0) parts.push(`${formatPercent(n.corruptPct)} corrupted`);
  if (n.reorderPct > 0) parts.push(`${formatPercent(n.reorderPct)} reordered`);
  if (n.rate !== undefined) parts.push(`rate ${n.rate.value}${n.rate.unit}`);
  return parts.join(', ');
}
