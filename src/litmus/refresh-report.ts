/**
 * DEPENDENCY_REFRESH in Litmus mode: what the refresh loops of a run did (in place, or reported by helper pods),
 * kept bounded for the ChaosResult (`status.netchaosRefresh`: counters + the last HISTORY_LIMIT entries) and
 * turned into Kubernetes Events on the ChaosEngine (reason DependencyRefresh: Normal for a move that was applied,
 * Warning for a dependency that did not resolve and for a diff that was not applied).
 *
 * A source that keeps failing would send one Warning per interval (every 3 s for hours): its Events are limited to
 * one per target and source every STALE_EVENT_EVERY_MS, each saying how many failures it stands for; the counter
 * and the history count every one.
 */
import type { RefreshEvent } from './targets.js';

/** The entries the ChaosResult keeps (the oldest are dropped first; the counters count all). */
export const HISTORY_LIMIT = 50;
/** At most one Warning Event per target and failing source in this time (the first failure is always sent). */
export const STALE_EVENT_EVERY_MS = 60_000;
/** Error texts in the history are cut here (an API error may carry a whole Status body). */
const ERROR_CHARS = 300;

export interface RefreshEntry {
  /** ISO time. */
  readonly at: string;
  /** `namespace/pod` of the target whose filters this is. */
  readonly target: string;
  /** The helper's node, when a helper pod did it. */
  readonly node?: string;
  /** `service shop/api`, `pods shop:[app=db]`, `host api.example.com`; for a failed diff, the changes it carried. */
  readonly source: string;
  /** changed: the filters follow the dependency; stale: it did not resolve, its last addresses are kept; failed: the diff was not applied. */
  readonly kind: 'changed' | 'stale' | 'failed';
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
  readonly error?: string;
}

export interface RefreshCounters {
  /** Dependency moves applied to the filters. */
  changes: number;
  /** Lookups that failed (the dependency kept its last addresses). */
  stale: number;
  /** Diffs tc refused (rolled back, or the run ended). */
  failed: number;
}

/** status.netchaosRefresh */
export interface RefreshStatus extends RefreshCounters {
  readonly intervalS: number;
  /** The last HISTORY_LIMIT entries, oldest first. */
  readonly history: readonly RefreshEntry[];
  /** Older entries not in `history`. */
  readonly dropped: number;
}

export interface RefreshNotice {
  readonly reason: 'DependencyRefresh';
  readonly type: 'Normal' | 'Warning';
  readonly message: string;
}

const cut = (s: string, n = ERROR_CHARS): string => (s.length > n ? `${s.slice(0, n)} …` : s);

export class RefreshHistory {
  private readonly counters: RefreshCounters = { changes: 0, stale: 0, failed: 0 };
  private entries: RefreshEntry[] = [];
  private dropped = 0;
  /** Per `target source`: when its last Warning Event was sent and how many failures came since. */
  private readonly staleNotes = new Map<string, { sentAt: number; since: number }>();

  constructor(private readonly intervalS: number, private readonly limit = HISTORY_LIMIT) {}

  get size(): number {
    return this.counters.changes + this.counters.stale + this.counters.failed;
  }

  /** Records one event of a target's refresh loop; the Event to send, if any. refresh-applied only completes the log. */
  record(target: string, e: RefreshEvent, now: number): RefreshNotice | undefined {
    const at = new Date(now).toISOString();
    switch (e.kind) {
      case 'dependency-changed': {
        this.counters.changes++;
        this.push({ at, target, source: e.source, kind: 'changed', added: e.added, removed: e.removed });
        const what = [...e.added.map((x) => `added ${x}`), ...e.removed.map((x) => `removed ${x}`)].join(', ');
        return { reason: 'DependencyRefresh', type: 'Normal', message: `${target}: dependency ${e.source} moved, filters updated: ${what}` };
      }
      case 'dependency-stale': {
        this.counters.stale++;
        this.push({ at, target, source: e.source, kind: 'stale', error: cut(e.error) });
        const key = `${target} ${e.source}`;
        const note = this.staleNotes.get(key);
        if (note && now - note.sentAt < STALE_EVENT_EVERY_MS) {
          note.since++;
          return undefined;
        }
        const more = note && note.since > 0 ? ` (${note.since} more failure(s) since the last such Event)` : '';
        this.staleNotes.set(key, { sentAt: now, since: 0 });
        return { reason: 'DependencyRefresh', type: 'Warning', message: `${target}: dependency ${e.source} did not resolve (${cut(e.error)}): keeping its last addresses, asking again in ${e.retryS}s${more}` };
      }
      case 'refresh-failed': {
        this.counters.failed++;
        this.push({ at, target, source: e.changes, kind: 'failed', error: cut(e.error) });
        return {
          reason: 'DependencyRefresh', type: 'Warning',
          message: e.kept
            ? `${target}: dependency change NOT applied (${cut(e.changes)}): ${cut(e.error)}; the filters stay as they were, tried again at the next refresh`
            : `${target}: dependency change failed (${cut(e.changes)}): ${cut(e.error)}; the filters are in an unknown state: the run ends and the whole tree is removed`,
        };
      }
      case 'refresh-applied':
        return undefined;
      default: {
        const unknown: never = e;
        return unknown;
      }
    }
  }

  /** Adds what a helper pod reported (its counters count what its own bounded history no longer lists). */
  merge(node: string, r: RefreshStatus | WireRefresh): void {
    this.counters.changes += r.changes;
    this.counters.stale += r.stale;
    this.counters.failed += r.failed;
    this.dropped += r.dropped;
    for (const e of r.history) this.push({ ...e, node });
    this.entries.sort((a, b) => a.at.localeCompare(b.at));
  }

  status(): RefreshStatus {
    return { intervalS: this.intervalS, ...this.counters, history: [...this.entries], dropped: this.dropped };
  }

  /** As a helper's result carries it (the runner knows the interval). */
  wire(): WireRefresh {
    return { ...this.counters, history: [...this.entries], dropped: this.dropped };
  }

  /** One line for the Summary Event; empty when nothing happened. */
  summary(): string {
    const { changes, stale, failed } = this.counters;
    if (this.size === 0) return '';
    return `DEPENDENCY_REFRESH: ${changes} move(s) applied, ${stale} failed lookup(s) (last addresses kept), ${failed} change(s) not applied`;
  }

  private push(e: RefreshEntry): void {
    this.entries.push(e);
    while (this.entries.length > this.limit) {
      this.entries.shift();
      this.dropped++;
    }
  }
}

/** The refresh part of a helper's result: as status.netchaosRefresh, without the interval (the runner knows it). */
export type WireRefresh = Omit<RefreshStatus, 'intervalS'>;
