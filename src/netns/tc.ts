/**
 * The real TcPort: tc and ip inside a target namespace through nsenter, each call one exec with an argv
 * array (a batch goes on stdin). What they print is read by src/tc/parse.ts.
 *
 * Exec count: a show 1; the apply 1 (`tc -batch`, plus 1 `ip -batch` for the ifb with DIRECTION=ingress|both);
 * the revert 1 (delete + read back in one batch; a run's own revert puts its marker guard first in that batch,
 * and reads the qdiscs once more when the guard stops it; `netchaos revert` reads the ingress side in that
 * same batch), and for an ingress side that is there up to 3 more (read; delete + read back; `ip -batch`:
 * delete the ifb + list the ifbs left).
 */
import { RuntimeError } from '../model/errors.js';
import { type NetnsRef, describeNetns, nsenterArgs } from '../model/netns.js';
import type { Exec, ExecResult, TcPort } from '../ports.js';
import { ifbName, revertLines } from '../tc/plan.js';
import { markerGuardLine, markerShowArgs, parseMarker } from '../tc/marker.js';
import {
  deviceMissing, isOurs, nsenterFailed, parseBatchFailure, parseIngressState, parseInterfaceNames, parseLinkNames, parseQdiscs,
  parseRevertOutput, parseRevertWithIngress, rootOf, batchResults,
} from '../tc/parse.js';

/** Batches of 10k filters take seconds under emulation; a hung tc must not hang the run. */
const TC_TIMEOUT_MS = 120_000;
const IP_TIMEOUT_MS = 60_000;

/** Lines per piece written to stdin: about 64 KiB of a 10,000-destination batch. */
const BATCH_CHUNK_LINES = 512;

/** The batch text, `BATCH_CHUNK_LINES` lines at a time, each line ending in a newline (streamed to tc's stdin). */
export function* batchChunks(lines: readonly string[]): Generator<string> {
  for (let i = 0; i < lines.length; i += BATCH_CHUNK_LINES) yield lines.slice(i, i + BATCH_CHUNK_LINES).join('\n') + '\n';
}

export function nsenterTc(exec: Exec): TcPort {
  const run = (netns: NetnsRef, bin: 'tc' | 'ip', args: readonly string[], lines?: readonly string[]): Promise<ExecResult> =>
    exec('nsenter', [...nsenterArgs(netns), '--', bin, ...args], {
      timeoutMs: bin === 'tc' ? TC_TIMEOUT_MS : IP_TIMEOUT_MS,
      ...(lines !== undefined ? { input: lines.length > BATCH_CHUNK_LINES ? batchChunks(lines) : lines.join('\n') + '\n' } : {}),
    });

  const enterError = (netns: NetnsRef, stderr: string, hint = ''): RuntimeError =>
    new RuntimeError(`cannot enter the network namespace of ${describeNetns(netns)}: ${stderr.trim()}${hint}`);

  return {
    qdiscs: async (netns, dev) => {
      const r = await run(netns, 'tc', ['-j', 'qdisc', 'show', 'dev', dev]);
      if (r.exitCode === 0) return parseQdiscs(r.stdout.trim() || '[]');
      if (nsenterFailed(r.stderr)) throw enterError(netns, r.stderr, ' (the runner needs CAP_SYS_ADMIN and, for a pid, hostPID)');
      if (deviceMissing(r.stderr)) {
        const list = await exec('nsenter', [...nsenterArgs(netns), '--', 'ip', '-o', 'link', 'show']);
        const names = list.exitCode === 0 ? parseInterfaceNames(list.stdout) : [];
        throw new RuntimeError(`interface ${JSON.stringify(dev)} does not exist in the network namespace of ${describeNetns(netns)}; it has: ${names.join(', ') || 'no interfaces'} (set NETWORK_INTERFACE / --interface)`);
      }
      throw new RuntimeError(`tc qdisc show dev ${dev} failed in ${describeNetns(netns)}: ${r.stderr.trim()}`);
    },

    allQdiscs: async (netns) => {
      const r = await run(netns, 'tc', ['-j', 'qdisc', 'show']);
      if (r.exitCode === 0) return parseQdiscs(r.stdout.trim() || '[]');
      throw nsenterFailed(r.stderr) ? enterError(netns, r.stderr) : new RuntimeError(`tc qdisc show failed in ${describeNetns(netns)}: ${r.stderr.trim()}`);
    },

    readMarker: async (netns, dev) => {
      const r = await run(netns, 'tc', markerShowArgs(dev));
      if (nsenterFailed(r.stderr) || deviceMissing(r.stderr)) return 'gone';
      if (r.exitCode !== 0) throw new RuntimeError(`tc ${markerShowArgs(dev).join(' ')} failed in ${describeNetns(netns)}: ${r.stderr.trim()}`);
      return parseMarker(r.stdout) ?? 'none';
    },

    apply: async (netns, lines) => {
      const r = await run(netns, 'tc', ['-batch', '-'], lines);
      return parseBatchFailure(r.exitCode, r.stderr, lines);
    },

    revertOnce: async (netns, dev, runId, node) => {
      if (runId === undefined) {
        const r = await run(netns, 'tc', ['-j', '-force', '-batch', '-'], revertLines(dev));
        return parseRevertOutput(r.stdout, r.stderr);
      }
      // Guarded: without -force the batch stops at its first failure, so the delete runs only when the
      // guard found this run's marker node under our root, in the same batch.
      const r = await run(netns, 'tc', ['-j', '-batch', '-'], [markerGuardLine(dev, runId, node), ...revertLines(dev)]);
      if (nsenterFailed(r.stderr) || deviceMissing(r.stderr)) return { kind: 'gone', error: r.stderr.trim() };
      if (/Command failed -:[23]\b/.test(r.stderr)) return { kind: 'still-there', error: r.stderr.trim() };
      if (!/Command failed -:1\b/.test(r.stderr)) return parseRevertOutput(r.stdout, r.stderr);
      // Not this run's tree (another run's, an unmarked one) or no tree: nothing was deleted; say what is there.
      const show = await run(netns, 'tc', ['-j', 'qdisc', 'show', 'dev', dev]);
      if (nsenterFailed(show.stderr) || deviceMissing(show.stderr)) return { kind: 'gone', error: show.stderr.trim() };
      if (show.exitCode !== 0) return { kind: 'still-there', error: `tc qdisc show dev ${dev} failed: ${show.stderr.trim()}` };
      const root = rootOf(parseQdiscs(show.stdout.trim() || '[]'));
      return { kind: 'clean', removed: false, root, otherRun: isOurs(root) };
    },

    revertWithIngress: async (netns, dev) => {
      const lines = [...revertLines(dev), `filter show dev ${dev} ingress`, `qdisc show dev ${ifbName(dev)}`];
      const r = await run(netns, 'tc', ['-j', '-force', '-batch', '-'], lines);
      return parseRevertWithIngress(r.stdout, r.stderr, lines);
    },

    readIngress: async (netns, dev, first = []) => {
      const ifb = ifbName(dev);
      const lines = [...first, `qdisc show dev ${dev}`, `filter show dev ${dev} ingress`, `qdisc show dev ${ifb}`];
      const r = await run(netns, 'tc', ['-j', '-force', '-batch', '-'], lines);
      if (nsenterFailed(r.stderr)) throw enterError(netns, r.stderr);
      // The deletes print nothing; a failed one is seen in what the shows read back.
      const state = parseIngressState(batchResults(r.stdout, r.stderr, lines).slice(first.length));
      if (state === undefined) throw new RuntimeError(`tc qdisc show dev ${dev} failed in ${describeNetns(netns)}: ${r.stderr.trim()}`);
      return state;
    },

    addLinks: async (netns, lines) => {
      const r = await run(netns, 'ip', ['-batch', '-'], lines);
      if (r.exitCode === 0) return undefined;
      const hint = /Unknown device type|not supported/i.test(r.stderr) ? ' (the node kernel needs the ifb module)' : '';
      return `${r.stderr.trim() || `ip exited with ${r.exitCode}`}${hint}`;
    },

    deleteLink: async (netns, name) => {
      const r = await run(netns, 'ip', ['-j', '-force', '-batch', '-'], [`link del dev ${name}`, 'link show type ifb']);
      return { left: parseLinkNames(r.stdout), error: r.stderr.trim() };
    },
  };
}
