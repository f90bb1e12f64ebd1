/**
 * Live dependencies during the wait (DEPENDENCY_REFRESH): ask the sources that are due again, plan against the
 * live tree, apply only the difference in one `tc -batch`, log every address added or removed.
 *
 * A failed diff is rolled back: the inverse of every line that ran, last first, in one more batch; the run goes
 * on with the filters it had, says so at error level, and tries again when the sources are next due. When the
 * rollback fails too (or tc does not say which line failed), the tree is in an unknown state: the refresh throws,
 * and the wait loop ends the run with the revert of the whole tree (exit 1).
 * A source that stops resolving (NXDOMAIN, no ready endpoints, an API error) keeps its last addresses: a group
 * never loses all its addresses, which would mean "all traffic".
 */
import { RuntimeError, messageOf } from '../model/errors.js';
import { type DestinationItem, formatCidr } from '../model/addresses.js';
import type { Resolved } from '../model/destinations.js';
import type { NetnsRef } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { type Plan, plan } from '../tc/plan.js';
import { diffPlan, undoLines } from '../tc/diff.js';
import { type LiveSource, refreshDelayMs } from '../resolve/live.js';
import type { LifecycleEvent } from './events.js';

/** Called by the wait loop after each step with the live plan and where it is; returns the plan that is live afterwards. */
export type Refresh = (live: Plan, netns: NetnsRef, emit: (e: LifecycleEvent) => void) => Promise<Plan>;

export interface RefreshOptions {
  readonly spec: Spec;
  readonly sources: readonly LiveSource[];
  /** What the sources resolved to before the injection (discover()), matched to them by `source`. */
  readonly initial: readonly Resolved[];
}

const itemText = (i: DestinationItem): string => formatCidr(i.cidr).replace(/\/(32|128)$/, '') + (i.ports.length ? `|${i.ports.join('|')}` : '');

interface State {
  items: readonly DestinationItem[];
  due: number;
}

/** The refresh callback for one target, or undefined when there is nothing to refresh (or it is off). */
export function liveRefresh(deps: Pick<Deps, 'tc' | 'clock' | 'stop'>, o: RefreshOptions): Refresh | undefined {
  const intervalS = o.spec.refreshS;
  const index = o.spec.groups.findIndex((g) => g.named !== undefined);
  if (intervalS === 0 || index === -1 || o.sources.length === 0) return undefined;
  const start = deps.clock.now();
  const state = new Map<string, State>(o.sources.map((s) => {
    const r = o.initial.find((x) => x.source === s.source);
    return [s.source, { items: r?.items ?? [], due: start + refreshDelayMs(s.kind, intervalS, r?.ttlS) }];
  }));

  return async (live, netns, emit) => {
    const now = deps.clock.now();
    const due = o.sources.filter((s) => (state.get(s.source)?.due ?? Infinity) <= now);
    if (due.length === 0) return live;
    const changes: Extract<LifecycleEvent, { kind: 'dependency-changed' }>[] = [];
    const fresh = new Map<string, readonly DestinationItem[]>();
    await Promise.all(due.map(async (s) => {
      const st = state.get(s.source);
      if (!st) return;
      try {
        const r = await s.resolve(deps.stop.signal);
        st.due = deps.clock.now() + refreshDelayMs(s.kind, intervalS, r.ttlS);
        const before = new Set(st.items.map(itemText));
        const after = new Set(r.items.map(itemText));
        const added = [...after].filter((x) => !before.has(x));
        const removed = [...before].filter((x) => !after.has(x));
        if (added.length + removed.length > 0) {
          fresh.set(s.source, r.items);
          changes.push({ kind: 'dependency-changed', source: s.source, added, removed, details: r.details });
        }
      } catch (error) {
        st.due = deps.clock.now() + intervalS * 1000;
        emit({ kind: 'dependency-stale', source: s.source, error: messageOf(error), retryS: intervalS });
      }
    }));
    if (changes.length === 0) return live;

    const items = o.sources.flatMap((s) => fresh.get(s.source) ?? state.get(s.source)?.items ?? []);
    const what = changes.map((c) => `${c.source}: ${[...c.added.map((a) => `+${a}`), ...c.removed.map((r) => `-${r}`)].join(' ')}`).join('; ');
    let next: Plan;
    let diff;
    try {
      next = plan(o.spec, { discovered: o.spec.groups.map((_g, i) => (i === index ? items : [])) }, { previous: live });
      diff = diffPlan(live, next);
    } catch (error) {
      // Nothing was changed; the sources are asked again when due and the change is tried again then.
      emit({ kind: 'refresh-failed', changes: what, error: messageOf(error), kept: true });
      return live;
    }
    const started = deps.clock.now();
    const failure = diff.lines.length > 0 ? await deps.tc.apply(netns, diff.lines) : undefined;
    if (!failure) {
      for (const [source, its] of fresh) { const st = state.get(source); if (st) st.items = its; }
      for (const c of changes) emit(c);
      if (diff.lines.length > 0) {
        emit({ kind: 'refresh-applied', added: diff.added, deleted: diff.deleted, tables: diff.newTables.map((t) => t.htid), applyMs: deps.clock.now() - started, batch: [...diff.lines] });
      }
      return next;
    }
    const error = `tc rejected line ${failure.line ?? '?'} of the refresh batch (${failure.text ?? '?'}): ${failure.error}`;
    if (failure.line === undefined) {
      emit({ kind: 'refresh-failed', changes: what, error: `${error}; which lines ran is unknown`, kept: false });
      throw new RuntimeError(`${error}. The filters are in an unknown state: ending the run (the whole tree is removed)`);
    }
    const undo = undoLines(diff, failure.line - 1);
    const undoFailure = undo.length > 0 ? await deps.tc.apply(netns, undo) : undefined;
    if (undoFailure) {
      emit({ kind: 'refresh-failed', changes: what, error: `${error}; the rollback failed too at line ${undoFailure.line ?? '?'} (${undoFailure.text ?? '?'}): ${undoFailure.error}`, kept: false });
      throw new RuntimeError(`${error}, and its rollback failed (${undoFailure.error}). The filters are in an unknown state: ending the run (the whole tree is removed)`);
    }
    emit({ kind: 'refresh-failed', changes: what, error, kept: true });
    // Tables and links that ran stay (empty or not, they change nothing): the live plan must know them.
    const ran = diff.lines.slice(0, failure.line - 1).filter((_l, i) => diff.undo[i] === undefined);
    const created = diff.newTables.filter((t) => ran.some((l) => l.includes(` handle ${t.htid} u32 divisor `)));
    return ran.length > 0 ? { ...live, tables: [...live.tables, ...created], apply: [...live.apply, ...ran] } : live;
  };
}
