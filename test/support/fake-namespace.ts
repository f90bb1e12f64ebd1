/**
 * A fake network namespace at the command-line level: nsenter and tc/ip as they are called (argv, batch on
 * stdin) and what they print, driven by the commands we send. Only the tests of the real TcPort adapter
 * (src/netns/tc.ts) use it; the lifecycle tests fake the port itself (./fake-tc.ts).
 * `batchFailsAt` makes the apply batch fail at a line; `revertFailures` makes reverts fail.
 */
import assert from 'node:assert/strict';
import type { ExecResult } from '../../src/ports.ts';

export interface Call {
  readonly file: string;
  readonly args: readonly string[];
  readonly input: string | undefined;
}

export class FakeNamespace {
  root: { kind: string; handle: string } = { kind: 'noqueue', handle: '0:' };
  readonly calls: Call[] = [];
  exists = true;
  interfaces = ['lo', 'eth0'];
  batchFailsAt: number | undefined;
  /** Revert batches fail this many times before one works. */
  revertFailures = 0;
  /** The owner marker's four keys (hex) of the tree in place, as the apply batch wrote them. */
  marker: string[] | undefined;
  /** The marker node's id (hex), as the apply batch chose it. */
  markerNodeId = '1';
  /** What `tc filter show … prio 9` prints for the marker (as iproute2 6.1 does). */
  markerText(): string {
    if (!this.marker) return '';
    return ['filter protocol [20035] u32 chain 0 ', 'filter protocol [20035] u32 chain 0 fh 7ff: ht divisor 1 ',
      `filter protocol [20035] u32 chain 0 fh 7ff::${this.markerNodeId} order 1 key ht 7ff bkt 0 not_in_hw `,
      ...this.marker.map((k, i) => `  match ${k}/ffffffff at ${i * 4}`), 'filter protocol [20035] u32 chain 0 fh 801: ht divisor 1 ', ''].join('\n');
  }
  /** Called after each exec, e.g. to send a signal mid-run. */
  afterExec: ((call: Call) => void) | undefined;
  /** The ingress slot of eth0 (DIRECTION=ingress/both): nothing, our redirect to nc-ifb-eth0, or someone else's. */
  ingress: 'none' | 'ours' | 'foreign' = 'none';
  /** Whether our ifb device nc-ifb-eth0 exists. */
  ifb = false;

  readonly exec = async (file: string, args: readonly string[], options?: { input?: string | Iterable<string> }): Promise<ExecResult> => {
    const input = options?.input;
    const call = { file, args, input: input === undefined || typeof input === 'string' ? input : [...input].join('') };
    this.calls.push(call);
    const result = this.run(call);
    this.afterExec?.(call);
    return Promise.resolve(result);
  };

  private run({ file, args, input }: Call): ExecResult {
    assert.equal(file, 'nsenter');
    const sep = args.indexOf('--');
    const [bin, ...rest] = args.slice(sep + 1);
    if (!this.exists) return { exitCode: 1, stdout: '', stderr: 'nsenter: cannot open /proc/4242/ns/net: No such file or directory\n' };
    if (bin === 'ip' && rest.includes('-batch')) return this.ipBatch(input ?? '');
    if (bin === 'ip') return { exitCode: 0, stdout: this.interfaces.map((n, i) => `${i + 1}: ${n}: <UP> mtu 1500`).join('\n'), stderr: '' };
    assert.equal(bin, 'tc');
    const show = (dev: string): ExecResult => this.interfaces.includes(dev)
      ? { exitCode: 0, stdout: JSON.stringify([{ ...this.root, root: true, refcnt: 2, options: {} }]) + '\n', stderr: '' }
      : { exitCode: 1, stdout: '', stderr: `Cannot find device "${dev}"\n` };
    if (rest.join(' ') === '-j qdisc show') {
      return { exitCode: 0, stdout: JSON.stringify([{ kind: 'noqueue', handle: '0:', dev: 'lo', root: true }, { ...this.root, dev: 'eth0', root: true }]) + '\n', stderr: '' };
    }
    if (rest[0] === '-j' && rest[1] === 'qdisc' && rest[2] === 'show') return show(rest[4] ?? '');
    if (rest[0] === 'filter' && rest[1] === 'show' && rest.slice(4).join(' ') === 'parent 4e43: prio 9') {
      if (!this.interfaces.includes(rest[3] ?? '')) return { exitCode: 1, stdout: '', stderr: `Cannot find device "${rest[3] ?? ''}"\n` };
      return { exitCode: 0, stdout: this.root.handle === '4e43:' ? this.markerText() : '', stderr: '' };
    }
    if (rest[0] === '-batch') {
      const lines = (input ?? '').trimEnd().split('\n');
      if (this.batchFailsAt !== undefined) {
        if (this.batchFailsAt > 1) this.root = { kind: 'prio', handle: '4e43:' };
        return { exitCode: 1, stdout: '', stderr: `Error: Specified qdisc kind is unknown.\nCommand failed -:${this.batchFailsAt}\n` };
      }
      if (lines[0]?.startsWith('qdisc add') && this.root.handle !== '0:') {
        return { exitCode: 2, stdout: '', stderr: 'Error: Exclusivity flag on, cannot modify.\nCommand failed -:1\n' };
      }
      if (lines.some((l) => /^qdisc add dev \S+ handle ffff: ingress$/.test(l))) this.ingress = 'ours';
      if (lines.some((l) => /^qdisc (add|replace) dev eth0 root handle 4e43:/.test(l))) this.root = { kind: 'prio', handle: '4e43:' };
      const markerLine = lines.find((l) => / handle 7ff::[0-9a-f]+ /.test(l));
      this.markerNodeId = / handle 7ff::([0-9a-f]+) /.exec(markerLine ?? '')?.[1] ?? '1';
      this.marker = markerLine?.match(/0x[0-9a-f]{8}(?= 0xffffffff at \d+)/g)?.map((w) => w.slice(2));
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    if (rest.join(' ') === '-j -batch -' && (input ?? '').startsWith('filter get ')) {
      // The guarded revert: the batch stops at the guard unless this run's marker node is there.
      const dev = /dev (\S+)/.exec(input ?? '')?.[1] ?? '';
      if (!this.interfaces.includes(dev)) return { exitCode: 1, stdout: '', stderr: `Cannot find device "${dev}"\nCommand failed -:1\n` };
      const node = / handle 7ff::([0-9a-f]+) /.exec(input ?? '')?.[1];
      if (this.root.handle !== '4e43:' || this.marker === undefined || node !== this.markerNodeId) {
        return { exitCode: 1, stdout: '', stderr: 'Error: Specified filter handle not found.\nWe have an error talking to the kernel\nCommand failed -:1\n' };
      }
      this.root = { kind: 'noqueue', handle: '0:' };
      this.marker = undefined;
      return { exitCode: 0, stdout: `[{"parent":"4e43:","pref":9,"kind":"u32","options":{"fh":"7ff::${node}"}}]\n${show(dev).stdout}`, stderr: '' };
    }
    if (rest.join(' ') === '-j -force -batch -' && /^(qdisc show|qdisc del dev \S+ ingress|filter del)/.test(input ?? '')) return this.ingressBatch(input ?? '');
    if (rest.join(' ') === '-j -force -batch -') {
      const dev = /dev (\S+)/.exec(input ?? '')?.[1] ?? '';
      if (!this.interfaces.includes(dev)) return { exitCode: 1, stdout: '', stderr: `Cannot find device "${dev}"\nCommand failed -:1\n` };
      if (this.revertFailures > 0) {
        this.revertFailures--;
        return { exitCode: 1, stdout: show(dev).stdout, stderr: 'Error: RTNETLINK answers: Device or resource busy\nCommand failed -:1\n' };
      }
      let stderr = '';
      if (this.root.handle === '4e43:') this.root = { kind: 'noqueue', handle: '0:' };
      else stderr = 'Error: Invalid handle.\nCommand failed -:1\n';
      if (!(input ?? '').includes(`filter show dev ${dev} ingress`)) return { exitCode: stderr ? 1 : 0, stdout: show(dev).stdout, stderr };
      // `netchaos revert`: the ingress side read in the same batch (lines 3 and 4: its filters, the ifb's qdiscs).
      const more = this.ingressBatch('qdisc show');
      stderr += more.stderr.replace('Command failed -:3', 'Command failed -:4');
      return { exitCode: stderr ? 1 : 0, stdout: more.stdout, stderr };
    }
    throw new Error(`unexpected tc call: ${rest.join(' ')}`);
  }

  private ipBatch(input: string): ExecResult {
    if (input.startsWith('link add')) {
      this.ifb = true;
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    const existed = this.ifb;
    this.ifb = false;
    return { exitCode: existed ? 0 : 1, stdout: '[]\n', stderr: existed ? '' : 'Cannot find device "nc-ifb-eth0"\nCommand failed -:1\n' };
  }

  /** The ingress side's reads and deletes (`tc -j -force -batch -`). */
  private ingressBatch(input: string): ExecResult {
    if (input.startsWith('qdisc del dev eth0 ingress')) this.ingress = 'none';
    const offset = /^(qdisc|filter) del/.test(input) ? 1 : 0;
    const qdiscs = [{ ...this.root, root: true, refcnt: 2, options: {} }, ...(this.ingress === 'none' ? [] : [{ kind: this.ingress === 'ours' ? 'ingress' : 'clsact', handle: 'ffff:', parent: 'ffff:fff1', options: {} }])];
    const filters = this.ingress === 'ours'
      ? [{ parent: 'ffff:', protocol: 'all', pref: 20035, kind: 'u32', chain: 0 }, { parent: 'ffff:', protocol: 'all', pref: 20035, kind: 'u32', chain: 0, options: { fh: '800::800', actions: [{ order: 1, kind: 'mirred', mirred_action: 'redirect', direction: 'egress', to_dev: 'nc-ifb-eth0' }] } }]
      : this.ingress === 'foreign' ? [{ parent: 'ffff:', protocol: 'all', pref: 1, kind: 'bpf', chain: 0 }] : [];
    const out = [JSON.stringify(qdiscs), JSON.stringify(filters), ...(this.ifb ? [JSON.stringify([{ kind: 'prio', handle: '4e43:', root: true }])] : [])];
    return { exitCode: this.ifb ? 0 : 1, stdout: out.join('\n') + '\n', stderr: this.ifb ? '' : `Cannot find device "nc-ifb-eth0"\nCommand failed -:${3 + offset}\n` };
  }

  /** The tc exec calls, as short strings, for asserting the order of operations. */
  get tcOps(): string[] {
    return this.calls.map((c) => {
      const rest = c.args.slice(c.args.indexOf('--') + 1);
      if (rest.includes('-batch')) return (c.input ?? '').startsWith('qdisc del') ? 'revert' : 'apply';
      return rest.includes('show') ? 'show' : rest.join(' ');
    });
  }
}
