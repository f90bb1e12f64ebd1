/**
 * ICMP probes: the `ping` argv for one destination and what its output says. Shared by the effect worker
 * (./worker.ts, which runs ping next to its TCP connects) and the prober (./probe.ts, which runs ping itself
 * through nsenter when every destination is probed by ICMP: no node process per phase). No imports beyond types,
 * so the worker stays standalone.
 */
import type { WorkerDestination, WorkerResult } from '../model/probe.js';

/** `ping -n -c <samples> -i 0.2 -W <waitS> -w <deadline>` for one destination, the deadline `msLeft` from now. */
export function pingArgs(t: WorkerDestination, msLeft: number): string[] {
  const deadlineS = Math.max(1, Math.round(msLeft / 1000));
  const waitS = Math.max(1, Math.min(deadlineS, Math.ceil(deadlineS / 2)));
  return ['-n', '-c', String(t.samples), '-i', '0.2', '-W', String(waitS), '-w', String(deadlineS), t.address];
}

/**
 * The RTT of each echo (null: no reply) from ping's output (stdout and stderr together); `failed`: ping could
 * not be started. Echoes ping never sent (its -w deadline came first) are not samples; those sent and unanswered
 * are lost.
 */
export function parsePing(text: string, wanted: number, failed?: string): WorkerResult {
  const sent = Number(/(\d+) packets transmitted/.exec(text)?.[1] ?? wanted);
  const samples: (number | null)[] = Array.from({ length: Math.min(sent, wanted) }, () => null);
  let replies = 0;
  for (const m of text.matchAll(/icmp_seq=(\d+)\b.*?time=([\d.]+) ms/g)) {
    const seq = Number(m[1]);
    if (seq >= 1 && seq <= samples.length && samples[seq - 1] === null) {
      samples[seq - 1] = Number(m[2]);
      replies++;
    }
  }
  const summary = /(\d+) packets transmitted/.test(text);
  if (failed !== undefined || (!summary && replies === 0)) {
    return { samples, errors: {}, error: `ping: ${(failed ?? text.trim()).slice(0, 200) || 'no output'}` };
  }
  return { samples, errors: {} };
}
