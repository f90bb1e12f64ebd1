/**
 * A fake TcPort: one network namespace's state (root qdisc, owner marker, ingress slot, our ifb) changed by the
 * calls the lifecycle makes, as the kernel would. Lifecycle tests fake this port, not tc's command line; the
 * command line of the real adapter is tested against ./fake-namespace.ts (test/unit/netns.test.ts).
 */
import { RuntimeError } from '../../src/model/errors.ts';
import { type NetnsRef, describeNetns } from '../../src/model/netns.ts';
import type { BatchFailure, IngressState, Owner, Qdisc, RevertResult } from '../../src/model/tc.ts';
import type { TcPort } from '../../src/ports.ts';

export type TcOp = 'qdiscs' | 'allQdiscs' | 'readMarker' | 'apply' | 'revertOnce' | 'readIngress' | 'addLinks' | 'deleteLink';

export interface TcCall {
  readonly op: TcOp;
  readonly netns: NetnsRef;
  readonly dev?: string;
  /** The lines of a batch (apply, addLinks, the deletes before a readIngress). */
  readonly lines?: readonly string[];
  /** The run whose marker guards a revertOnce. */
  readonly runId?: string;
}

const short: Record<TcOp, string> = {
  qdiscs: 'show', allQdiscs: 'show', readMarker: 'marker', apply: 'apply', revertOnce: 'revert', readIngress: 'ingress', addLinks: 'links', deleteLink: 'link-del',
};

/** The owner in the marker lines of a batch (`handle 7ff::<id> … match u32 0x<word> 0xffffffff at <n>`). */
function ownerIn(lines: readonly string[]): Owner | undefined {
  const words = lines.find((l) => / handle 7ff::[0-9a-f]+ /.test(l))?.match(/0x[0-9a-f]{8}(?= 0xffffffff at \d+)/g)?.map((w) => w.slice(2));
  if (words?.length !== 4 || words[0] !== '4e430001') return undefined;
  return { deadlineS: parseInt(words[1] ?? '0', 16), runId: `${words[2] ?? ''}${words[3] ?? ''}` };
}

export class FakeNetns implements TcPort {
  root: { kind: string; handle: string } = { kind: 'noqueue', handle: '0:' };
  readonly calls: TcCall[] = [];
  exists = true;
  interfaces = ['lo', 'eth0'];
  /** The apply batch fails at this line (the lines before it ran: the root is there from line 2 on). */
  batchFailsAt: number | undefined;
  /** Revert attempts fail this many times before one works. */
  revertFailures = 0;
  /** The owner marker of the tree in place, as the apply batch wrote it. */
  marker: Owner | undefined;
  /** The ingress slot of eth0 (DIRECTION=ingress/both): nothing, our redirect to nc-ifb-eth0, or someone else's. */
  ingress: 'none' | 'ours' | 'foreign' = 'none';
  /** Whether our ifb device nc-ifb-eth0 exists. */
  ifb = false;
  /** DIRECTION=ingress: the marker of the tree on the ifb (whose root is ours while it is set). */
  ifbMarker: Owner | undefined;
  /** Called after each call, e.g. to send a signal mid-run. */
  afterCall: ((call: TcCall) => void) | undefined;

  /** The calls as short words, for asserting the order of operations. */
  get tcOps(): string[] {
    return this.calls.map((c) => short[c.op]);
  }

  /** The lines of every apply batch, in order. */
  get batches(): (readonly string[])[] {
    return this.calls.filter((c) => c.op === 'apply').map((c) => c.lines ?? []);
  }

  private async call<T>(c: TcCall, answer: () => T): Promise<T> {
    await Promise.resolve();
    this.calls.push(c);
    try {
      return answer();
    } finally {
      this.afterCall?.(c);
    }
  }

  private enter(netns: NetnsRef): void {
    if (!this.exists) throw new RuntimeError(`cannot enter the network namespace of ${describeNetns(netns)}: nsenter: No such file or directory`);
  }

  private device(netns: NetnsRef, dev: string): void {
    if (!this.interfaces.includes(dev)) throw new RuntimeError(`interface ${JSON.stringify(dev)} does not exist in ${describeNetns(netns)}`);
  }

  private get rootQdisc(): Qdisc {
    return { ...this.root, root: true };
  }

  qdiscs = (netns: NetnsRef, dev: string): Promise<Qdisc[]> => this.call({ op: 'qdiscs', netns, dev }, () => {
    this.enter(netns);
    this.device(netns, dev);
    return [this.rootQdisc];
  });

  allQdiscs = (netns: NetnsRef): Promise<Qdisc[]> => this.call({ op: 'allQdiscs', netns }, () => {
    this.enter(netns);
    const ifb = this.ifb ? [{ ...(this.ifbMarker ? { kind: 'prio', handle: '4e43:' } : { kind: 'noqueue', handle: '0:' }), dev: 'nc-ifb-eth0', root: true }] : [];
    return [{ kind: 'noqueue', handle: '0:', dev: 'lo', root: true }, { ...this.rootQdisc, dev: 'eth0' }, ...ifb];
  });

  readMarker = (netns: NetnsRef, dev: string): Promise<Owner | 'none' | 'gone'> => this.call({ op: 'readMarker', netns, dev }, () => {
    if (dev === 'nc-ifb-eth0' && this.exists && this.ifb) return this.ifbMarker ?? 'none';
    if (!this.exists || !this.interfaces.includes(dev)) return 'gone';
    return this.root.handle === '4e43:' && this.marker ? this.marker : 'none';
  });

  apply = (netns: NetnsRef, lines: readonly string[]): Promise<BatchFailure | undefined> => this.call({ op: 'apply', netns, lines }, () => {
    this.enter(netns);
    if (this.batchFailsAt !== undefined) {
      // The lines before the failing one ran: the root (line 1), and the marker right after it.
      if (this.batchFailsAt > 1) this.root = { kind: 'prio', handle: '4e43:' };
      this.marker = ownerIn(lines.slice(0, this.batchFailsAt - 1)) ?? this.marker;
      return { line: this.batchFailsAt, text: lines[this.batchFailsAt - 1], error: 'Error: Specified qdisc kind is unknown.' };
    }
    // tc stops at the first line naming a device that is not there (before any change).
    const missing = lines.map((l) => / dev (\S+)/.exec(l)?.[1]).find((d) => d !== undefined && !this.interfaces.includes(d) && !(d === 'nc-ifb-eth0' && this.ifb));
    if (missing !== undefined) {
      const at = lines.findIndex((l) => l.includes(` dev ${missing}`));
      return { line: at + 1, text: lines[at], error: `Cannot find device "${missing}"` };
    }
    if (lines[0]?.startsWith('qdisc add') && this.root.handle !== '0:') return { line: 1, text: lines[0], error: 'Error: Exclusivity flag on, cannot modify.' };
    if (lines.some((l) => /^qdisc del dev eth0 parent ffff:fff1$/.test(l))) this.ingress = 'none';
    if (lines.some((l) => /^qdisc add dev \S+ handle ffff: ingress$/.test(l))) this.ingress = 'ours';
    if (lines.some((l) => /^qdisc (add|replace) dev eth0 root handle 4e43:/.test(l))) this.root = { kind: 'prio', handle: '4e43:' };
    const owner = ownerIn(lines);
    if (lines.some((l) => / handle 7ff::[0-9a-f]+ /.test(l) && l.includes(' dev nc-ifb-eth0 '))) this.ifbMarker = owner;
    else this.marker = owner ?? this.marker;
    return undefined;
  });

  revertOnce = (netns: NetnsRef, dev: string, runId?: string): Promise<RevertResult> => this.call({ op: 'revertOnce', netns, dev, ...(runId !== undefined ? { runId } : {}) }, () => {
    if (dev === 'nc-ifb-eth0' && this.exists && this.ifb) {
      if (runId !== undefined && this.ifbMarker?.runId !== runId) return { kind: 'clean', removed: false, root: undefined, otherRun: this.ifbMarker !== undefined };
      const removed = this.ifbMarker !== undefined;
      this.ifbMarker = undefined;
      return { kind: 'clean', removed, root: undefined };
    }
    if (!this.exists || !this.interfaces.includes(dev)) return { kind: 'gone', error: `Cannot find device "${dev}"` };
    // The marker guard (same batch): without this run's marker, nothing is deleted.
    if (runId !== undefined && this.marker?.runId !== runId) return { kind: 'clean', removed: false, root: this.rootQdisc, otherRun: this.root.handle === '4e43:' };
    if (this.revertFailures > 0) {
      this.revertFailures--;
      return { kind: 'still-there', error: 'Error: RTNETLINK answers: Device or resource busy' };
    }
    const removed = this.root.handle === '4e43:';
    if (removed) {
      this.root = { kind: 'noqueue', handle: '0:' };
      this.marker = undefined;
    }
    return { kind: 'clean', removed, root: this.rootQdisc };
  });

  readIngress = (netns: NetnsRef, dev: string, first: readonly string[] = []): Promise<IngressState> => this.call({ op: 'readIngress', netns, dev, lines: first }, () => {
    this.enter(netns);
    if (first.includes(`qdisc del dev ${dev} ingress`)) this.ingress = 'none';
    const slot = this.ingress === 'none' ? undefined : { kind: this.ingress === 'ours' ? 'ingress' : 'clsact', handle: 'ffff:', parent: 'ffff:fff1' };
    return { owner: this.ingress, slot, redirect: this.ingress === 'ours' ? 'nc-ifb-eth0' : undefined, ifbExists: this.ifb };
  });

  /** The real adapter runs both in one batch; here they are recorded as the two calls they stand for. */
  revertWithIngress = async (netns: NetnsRef, dev: string): Promise<{ egress: RevertResult; ingress: IngressState | undefined }> => {
    const egress = await this.revertOnce(netns, dev);
    return { egress, ingress: egress.kind === 'clean' ? await this.readIngress(netns, dev) : undefined };
  };

  addLinks = (netns: NetnsRef, lines: readonly string[]): Promise<string | undefined> => this.call({ op: 'addLinks', netns, lines }, () => {
    this.enter(netns);
    this.ifb = true;
    return undefined;
  });

  deleteLink = (netns: NetnsRef, name: string): Promise<{ left: readonly string[] | undefined; error: string }> => this.call({ op: 'deleteLink', netns, dev: name }, () => {
    this.enter(netns);
    const existed = this.ifb;
    this.ifb = false;
    this.ifbMarker = undefined;
    return { left: [], error: existed ? '' : `Cannot find device "${name}"` };
  });
}

/** A TcPort over several fake namespaces, each named by the key of its reference (`pid 4242`, or the path). */
export function tcRouter(namespaces: Record<string, FakeNetns>): TcPort {
  const key = (n: NetnsRef): string => (n.kind === 'pid' ? `pid ${n.pid}` : n.path);
  const at = (n: NetnsRef): FakeNetns => {
    const ns = namespaces[key(n)];
    if (ns) return ns;
    const gone = new FakeNetns();
    gone.exists = false;
    return gone;
  };
  return {
    qdiscs: (n, dev) => at(n).qdiscs(n, dev),
    allQdiscs: (n) => at(n).allQdiscs(n),
    readMarker: (n, dev) => at(n).readMarker(n, dev),
    apply: (n, lines) => at(n).apply(n, lines),
    revertOnce: (n, dev, runId) => at(n).revertOnce(n, dev, runId),
    revertWithIngress: (n, dev) => at(n).revertWithIngress(n, dev),
    readIngress: (n, dev, first) => at(n).readIngress(n, dev, first),
    addLinks: (n, lines) => at(n).addLinks(n, lines),
    deleteLink: (n, name) => at(n).deleteLink(n, name),
  };
}
