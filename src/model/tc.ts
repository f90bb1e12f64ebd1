/** What tc reports about a namespace, as values (parsed from `tc -j` output in src/tc/parse.ts). */

export interface Qdisc {
  readonly kind: string;
  readonly handle: string;
  readonly root?: boolean;
  readonly parent?: string;
  /** Present when the list covers every interface (`tc -j qdisc show` without `dev`). */
  readonly dev?: string;
}

/** The run that built a tree, and the unix second after which anyone may remove it (src/tc/marker.ts). */
export interface Owner {
  /** 16 lowercase hex digits. */
  readonly runId: string;
  readonly deadlineS: number;
  /**
   * The marker node's handle as it was read from a tree (`7ff::<id>`): `markerNode(runId)` in trees of this
   * format, `7ff::1` in trees of netchaos before the per-run node (src/tc/marker.ts, "Formats"). Absent: the
   * run's own node (a tree this process builds).
   */
  readonly node?: string;
}

/** Where a `tc -batch` failed: the 1-based line and its text when tc said which, and tc's message. */
export interface BatchFailure {
  readonly line: number | undefined;
  readonly text: string | undefined;
  readonly error: string;
}

export type RevertResult =
  /**
   * Our root was deleted, or was not there; `root` is what the interface has now. `otherRun`: a delete guarded
   * by a run's marker found a prio 4e43: that is not that run's (another run's, or unmarked) and left it.
   */
  | { readonly kind: 'clean'; readonly removed: boolean; readonly root: Qdisc | undefined; readonly otherRun?: boolean }
  /** Our root is still there (the delete failed). */
  | { readonly kind: 'still-there'; readonly error: string }
  /** The namespace or the interface is gone, and our tree with it. */
  | { readonly kind: 'gone'; readonly error: string };

/** Whose is the ingress slot: none, ours (only our redirect to an ifb of ours), ours next to others (mixed), or someone else's. */
export type IngressOwner = 'none' | 'ours' | 'mixed' | 'foreign';

/** The ingress side of an interface, as one read sees it. */
export interface IngressState {
  readonly owner: IngressOwner;
  /** The qdisc in the ingress slot (ingress or clsact), if any. */
  readonly slot: Qdisc | undefined;
  /** The device our redirect (pref 0x4e43) sends to; `*` when that device is gone (an orphaned redirect); undefined: no redirect of ours. */
  readonly redirect: string | undefined;
  /** Whether the ifb named after this interface (`ifbName(dev)`) exists. */
  readonly ifbExists: boolean;
}

/** What one qdisc counted (tc -s). */
export interface QdiscCounter {
  readonly device: string;
  readonly handle: string;
  readonly kind: string;
  readonly packets: number;
  readonly bytes: number;
  readonly drops: number;
}
