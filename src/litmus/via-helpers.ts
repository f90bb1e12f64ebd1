/**
 * Litmus mode with targets on other nodes: one helper pod per node with targets. Every job and pod spec is
 * built before the first pod is created (a job too large, no runner pod, a plan that cannot be made: nothing
 * was changed); then they run (SEQUENCE), and each node's outcome goes to the ChaosResult's targets and an
 * Event. Any node that did not complete fails the run, by node.
 */
import { type LitmusErrorCode, HelperFailure, RevertError, RuntimeError } from '../model/errors.js';
import type { KubeCache } from '../model/destinations.js';
import { type TargetPod, podText } from '../model/kube.js';
import type { LitmusSpec } from '../model/litmus.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { capabilitiesFor } from '../kube/permissions.js';
import { prepare } from '../lifecycle/prepare.js';
import { resolveInCluster, resolveMeshHosts, splitHosts } from '../resolve/destinations.js';
import { type HelperEffect, encodeJob, wireDependencies, wireTarget } from './helper-job.js';
import { SHORT_GRACE_S, type NodeJob, type NodeOutcome, helperGraceS, helperName, helperPod, readRunnerPod, runHelpers } from './helper-pods.js';
import type { Reporter } from './report.js';
import type { RefreshHistory } from './refresh-report.js';
import { reportHelperBlast } from './blast-report.js';

/** What a helper job carries of this run's input: the fault variables as given (flag or env) and the files they name. */
export interface JobInputs {
  readonly variables: Readonly<Record<string, string>>;
  readonly files: Readonly<Record<string, string>>;
}

export interface ViaHelpers {
  readonly spec: Spec;
  readonly l: LitmusSpec;
  readonly targets: readonly TargetPod[];
  readonly reporter: Reporter | undefined;
  /** The run's progress, updated here: a helper started (the fault may be applied); what the helpers did when stopped. */
  readonly progress: { injected: boolean; stopDetail: string };
  readonly jobInputs?: JobInputs | undefined;
  readonly helperPollMs?: number | undefined;
  /** DEPENDENCY_REFRESH: where the helpers' refresh changes go (status.netchaosRefresh, Events). */
  readonly refresh?: RefreshHistory | undefined;
  /** MEASURE_EFFECT as a helper measured it, per target (`namespace/pod`). */
  readonly onEffect?: ((node: string, effect: HelperEffect) => void) | undefined;
}

export async function chaosViaHelpers(deps: Deps, o: ViaHelpers): Promise<void> {
  const { l, spec, reporter, progress } = o;
  const { jobs, bands } = await buildJobs(deps, o);
  if (deps.stop.stopped) return;
  const nodes = jobs.map((j) => j.node);
  reporter?.event('engine', 'ChaosInject', `Injecting ${l.experimentName} chaos on application pod(s) ${o.targets.map(podText).join(', ')} through helper pods on node(s) ${nodes.join(', ')} (${bands})`);
  const outcomes = await runHelpers(deps, {
    namespace: l.chaosNamespace, jobs, sequence: l.sequence,
    startTimeoutS: l.helperStartTimeoutS, runTimeoutS: Math.max(...jobs.map((j) => onNodeS(spec, l, j.targets.length))) + 60, graceS: helperGraceS(l.helperPod),
    ...(o.helperPollMs !== undefined ? { pollMs: o.helperPollMs } : {}),
    onOutcome: (out) => {
      if (out.started) progress.injected = true;
      for (const t of out.targets) {
        const status = out.status.get(podText(t)) ?? 'targeted';
        if (status !== 'targeted') reporter?.setTarget({ name: t.name, kind: 'pod', chaosStatus: status });
      }
      if (out.result?.blast) reportHelperBlast(deps.log, out.node, out.targets, out.result.blast, reporter);
      const text = describeOutcome(out);
      if (out.kind === 'completed') deps.log.info({ node: out.node, pod: out.pod }, text);
      else deps.log.warn({ node: out.node, pod: out.pod, outcome: out.kind }, text);
      reporter?.event('engine', 'ChaosHelper', text, out.kind === 'completed' ? 'Normal' : 'Warning');
      reportHelperRefresh(deps, o, out);
      for (const e of out.result?.effects ?? []) o.onEffect?.(out.node, e);
    },
  });
  if (deps.stop.received) {
    progress.stopDetail = outcomes.map(describeOutcome).join('; ');
    return;
  }
  failIfAnyFailed(outcomes, progress.injected);
}

/** A helper's refresh changes: into the run's history (status.netchaosRefresh), one Event per node, the log. */
function reportHelperRefresh(deps: Deps, o: ViaHelpers, out: NodeOutcome): void {
  const r = out.result?.refresh;
  if (!r || !o.refresh) return;
  o.refresh.merge(out.node, r);
  const moves = r.history.filter((e) => e.kind === 'changed').map((e) => `${e.target} ${e.source}: ${[...(e.added ?? []).map((x) => `+${x}`), ...(e.removed ?? []).map((x) => `-${x}`)].join(' ')}`);
  const shown = moves.slice(-5);
  const text = `node ${out.node}: the helper's dependency refresh applied ${r.changes} move(s)${shown.length > 0 ? ` (${moves.length > shown.length ? 'last: ' : ''}${shown.join('; ')})` : ''}`
    + `${r.stale > 0 ? `, ${r.stale} lookup(s) failed (last addresses kept)` : ''}${r.failed > 0 ? `, ${r.failed} change(s) NOT applied` : ''}`;
  const warn = r.stale > 0 || r.failed > 0;
  if (warn) deps.log.warn({ node: out.node, refresh: r }, text);
  else deps.log.info({ node: out.node, refresh: r }, text);
  o.reporter?.event('engine', 'DependencyRefresh', text, warn ? 'Warning' : 'Normal');
  o.reporter?.setRefresh(o.refresh.status(), o.refresh.summary());
}

/** The time a node's helper takes once started: ramp, chaos, ramp per target (serial: one after the other). */
const onNodeS = (spec: Spec, l: LitmusSpec, targets: number): number => (spec.rampS * 2 + spec.durationS) * (l.sequence === 'serial' ? targets : 1);

/** Every node's job and pod, before any pod exists; the plan (without the hostnames, resolved on each node) shows planner errors now. */
async function buildJobs(deps: Deps, o: ViaHelpers): Promise<{ jobs: NodeJob[]; bands: string }> {
  const { l, spec } = o;
  if (l.podName === '') throw new RuntimeError('target pods run on other nodes, and helper pods need POD_NAME (this runner\'s pod, set by the chaos-runner) to copy its image, service account, tolerations and pull secrets; or set HELPER_MODE=never and schedule the runner onto the targets\' node');
  if (!o.jobInputs) throw new RuntimeError('internal: no job inputs for helper pods');
  const inputs = o.jobInputs;
  const cache: KubeCache = new Map();
  const preview = await prepare(deps, { spec, cache, hostnames: false });
  // Targets behind a mesh sidecar: their DESTINATION_HOSTS Service names are resolved here too (a helper has no API access).
  const meshHosts = splitHosts(spec.groups.find((g) => g.named !== undefined)?.named?.hosts ?? [], o.targets.find((t) => t.mesh)?.mesh).mesh;
  const dependencies = [...(await resolveMeshHosts(deps, meshHosts, cache, deps.stop.signal)), ...(await resolveInCluster(deps, spec, cache, deps.stop.signal))];
  for (const [, r] of dependencies) if (r.warning !== undefined) deps.log.warn({ dependency: r.source }, r.warning);
  const runnerPod = await deps.kube.getPod(l.chaosNamespace, l.podName, { signal: deps.stop.signal });
  if (!runnerPod) throw new RuntimeError(`this runner's pod ${l.chaosNamespace}/${l.podName} was not found (POD_NAME, CHAOS_NAMESPACE): helper pods copy its image`);
  const runner = readRunnerPod(runnerPod, l.experimentName);
  const graceS = helperGraceS(l.helperPod);
  if (graceS < SHORT_GRACE_S) {
    deps.log.warn({ graceS }, `TERMINATION_GRACE_PERIOD_SECONDS=${graceS}: a helper pod stopped mid-run has ${graceS} s to revert and report; a revert takes a few seconds (more on a loaded node), and a helper killed before it leaves the fault until the dead-man reverts it`);
  }
  const nodes = [...new Set(o.targets.map((t) => t.node))];
  const jobs = nodes.map((node, i): NodeJob => {
    const mine = o.targets.filter((t) => t.node === node);
    const job = encodeJob({
      version: 1, node, sequence: l.sequence, variables: inputs.variables, files: inputs.files,
      dependencies: wireDependencies(dependencies), targets: mine.map(wireTarget),
    });
    const deadline = l.helperStartTimeoutS + onNodeS(spec, l, mine.length) + 60 + graceS;
    return { node, targets: mine, pod: helperPod({ name: helperName(runner.name, i + 1), namespace: l.chaosNamespace, node, runner, job, chaosUid: l.chaosUid, runtime: spec.runtime, targets: mine, activeDeadlineSeconds: deadline, capabilities: capabilitiesFor(spec), settings: l.helperPod, apiAccess: refreshesKube(spec) }) };
  });
  return { jobs, bands: preview.plan.bands.map((b) => b.description).join(', ') };
}

/** DEPENDENCY_REFRESH with pods or Services named: the helpers list them again during the run (they need the API). */
export function refreshesKube(spec: Spec): boolean {
  return spec.refreshS > 0 && spec.groups.some((g) => g.named !== undefined && g.named.pods.length + g.named.services.length > 0);
}

/** A node that did not complete fails the run: a revert failure first (exit 3), else by the helpers' error codes. */
function failIfAnyFailed(outcomes: readonly NodeOutcome[], injected: boolean): void {
  const bad = outcomes.filter((x) => x.kind !== 'completed');
  if (bad.length === 0) return;
  // A node stopped (or never started) because another one failed is not a failure of its own: named apart.
  const own = bad.filter((x) => x.kind !== 'stopped' && x.kind !== 'skipped');
  const failed = own.length > 0 ? own : bad;
  const knockOn = bad.filter((x) => !failed.includes(x));
  const reason = `helper pod(s) failed on ${failed.length} of ${outcomes.length} node(s): ${failed.map(describeOutcome).join('; ')}`
    + (knockOn.length > 0 ? `; stopped as a consequence: ${knockOn.map(describeOutcome).join('; ')}` : '');
  const revertFailed = bad.filter((x) => x.result?.error?.code === 'CHAOS_REVERT_ERROR');
  if (revertFailed.length > 0) {
    throw new RevertError(reason, revertFailed.map((x) => `on node ${x.node}: ${x.result?.error?.message ?? ''}`).join('; '), `netchaos revert --pid <pid> on each of node(s) ${revertFailed.map((x) => x.node).join(', ')} (the pid and command are in the message)`);
  }
  // The code is the failing nodes' own: a node stopped because of them may report one of its own (stopped mid-apply
  // on a slow node), which is not why the run failed.
  const codes = [...new Set(failed.map((x) => x.result?.error?.code).filter((c): c is LitmusErrorCode => c !== undefined))];
  throw new HelperFailure(reason, codes.length === 1 && codes[0] !== undefined ? codes[0] : injected ? 'CHAOS_INJECT_ERROR' : 'GENERIC_ERROR');
}

/** One node's outcome in a sentence, for the log, its Event and the ChaosResult's reason. */
export function describeOutcome(o: NodeOutcome): string {
  const counts = new Map<string, number>();
  for (const s of o.status.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
  const pods = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return o.kind === 'completed'
    ? `node ${o.node}: helper ${o.pod} completed (${pods})`
    : `node ${o.node}: ${o.message} (targets: ${pods})`;
}
