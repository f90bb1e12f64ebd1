/**
 * The Litmus ENV (set by the chaos-operator, the chaos-runner and the ChaosEngine) → a typed LitmusSpec.
 * Like buildSpec: all problems at once as UsageErrors, before anything is touched.
 */
import { UsageError } from '../model/errors.js';
import type { HelperMode, HelperPodSettings, LitmusSpec, PercentRange, PullPolicy, RunIdentity, Sequence } from '../model/litmus.js';
import type { TargetSelector } from '../model/kube.js';
import { type RawInput, Reader, defined, lenient } from './reader.js';
import { parseKind, parseLabelSelector, parseNamespace, parseObjectName, parseTargets } from './selectors.js';
import { parseBoolean, parseNumber, parseSeconds, splitList } from './values.js';

export function parsePercentRange(label: string, raw: string): PercentRange {
  const text = raw.trim();
  if (text === '') return { min: 0, max: 0 };
  const parts = text.split('-');
  if (parts.length > 2) throw new UsageError(label, `expected a percentage or a range a-b, got ${JSON.stringify(raw)}`);
  const [a = '', b = a] = parts;
  const min = parseNumber(label, a, { max: 100, unit: 'percent (0-100)' });
  const max = parseNumber(label, b, { max: 100, unit: 'percent (0-100)' });
  if (max < min) throw new UsageError(label, `the range ${JSON.stringify(raw)} runs backwards`);
  return { min, max };
}

const parseInstanceId = (l: string, t: string): string => parseToken(l, t, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lower-case letters, digits and -');
const parseUid = (l: string, t: string): string => parseToken(l, t, /^[A-Za-z0-9-]*$/, 'a UID');

/**
 * Just what names the run's ChaosResult, read leniently: used to report bad input (exit 2) to
 * ChaosCenter when the rest of the ENV does not parse. Undefined when the run cannot be named.
 */
export function readRunIdentity(input: RawInput): RunIdentity | undefined {
  const engine = lenient(input, 'CHAOSENGINE', parseObjectName);
  const experimentName = lenient(input, 'EXPERIMENT_NAME', parseObjectName);
  const chaosNamespace = lenient(input, 'CHAOS_NAMESPACE', parseNamespace);
  if (engine === undefined || experimentName === undefined || chaosNamespace === undefined) return undefined;
  return {
    chaosNamespace, engine, experimentName,
    instanceId: lenient(input, 'INSTANCE_ID', parseInstanceId),
    chaosUid: lenient(input, 'CHAOS_UID', parseUid) ?? '',
    podName: lenient(input, 'POD_NAME', parseObjectName) ?? '',
    nodeName: lenient(input, 'NODE_NAME', parseObjectName) ?? '',
  };
}

/** This pod's node (NODE_NAME, from the downward API), read leniently: undefined when unset or not a name. */
export const readNodeName = (input: RawInput): string | undefined => lenient(input, 'NODE_NAME', parseObjectName);

export function buildLitmusSpec(input: RawInput): LitmusSpec {
  const r = new Reader(input);
  const targets = readTargets(r);
  const podsAffected = r.value('PODS_AFFECTED_PERC', parsePercentRange);
  const nodeLabel = r.optional('NODE_LABEL', parseLabelSelector);
  const targetContainer = r.optional('TARGET_CONTAINER', parseContainerName);
  const sequence = r.value('SEQUENCE', parseSequence);
  const helperMode = r.value('HELPER_MODE', parseHelperMode);
  const helperStartTimeoutS = r.value('HELPER_START_TIMEOUT', (l, t) => parseSeconds(l, t, { min: 1 }));
  const helperPod = readHelperPod(r);
  const healthCheck = r.value('DEFAULT_HEALTH_CHECK', parseBoolean);
  const statusDelayS = r.value('STATUS_CHECK_DELAY', (l, t) => parseSeconds(l, t, { min: 0 }));
  const statusTimeoutS = r.value('STATUS_CHECK_TIMEOUT', (l, t) => parseSeconds(l, t, { min: 0 }));
  const chaosNamespace = r.value('CHAOS_NAMESPACE', parseNamespace);
  const engine = r.optional('CHAOSENGINE', parseObjectName);
  const chaosUid = r.value('CHAOS_UID', parseUid);
  const experimentName = r.optional('EXPERIMENT_NAME', parseObjectName);
  const instanceId = r.optional('INSTANCE_ID', parseInstanceId);
  const podName = r.value('POD_NAME', (l, t) => (t.trim() === '' ? '' : parseObjectName(l, t)));
  const nodeName = r.value('NODE_NAME', (l, t) => {
    if (t.trim() === '') throw new UsageError(l, 'unknown node: set NODE_NAME from the downward API (fieldRef spec.nodeName) so only pods on this node are touched');
    return parseObjectName(l, t);
  });
  if (helperMode === 'always' && podName === '') {
    r.problem(r.labelOf('HELPER_MODE'), 'always needs POD_NAME (set by the chaos-runner): helper pods copy this pod\'s image, service account, tolerations and pull secrets');
  }
  if (engine !== undefined && experimentName === undefined) {
    r.problem(r.labelOf('EXPERIMENT_NAME'), 'required with CHAOSENGINE: the ChaosResult is named <CHAOSENGINE>-<EXPERIMENT_NAME>');
  }
  r.done();
  return {
    ...targets, podsAffected: defined(podsAffected), nodeLabel, targetContainer, sequence: defined(sequence), helperMode: defined(helperMode),
    helperStartTimeoutS: defined(helperStartTimeoutS), helperPod, healthCheck: defined(healthCheck),
    statusCheck: { delayMs: defined(statusDelayS) * 1000, timeoutMs: defined(statusTimeoutS) * 1000 }, chaosNamespace: defined(chaosNamespace), engine,
    chaosUid: defined(chaosUid), experimentName: experimentName ?? '', instanceId, podName: defined(podName), nodeName: defined(nodeName),
  };
}

/** TARGETS, or its older form APP_NS with APP_LABEL/APP_KIND or TARGET_PODS. */
function readTargets(r: Reader): Pick<LitmusSpec, 'targets' | 'targetPods'> {
  let targets: TargetSelector[] = r.value('TARGETS', parseTargets) ?? [];
  const appNs = r.optional('APP_NS', parseNamespace);
  const appLabel = r.optional('APP_LABEL', parseLabelSelector);
  const appKind = r.value('APP_KIND', parseKind) ?? 'any';
  const targetPods = r.value('TARGET_PODS', (l, t) => (t.trim() === '' ? [] : splitList(l, t).map((n) => parseObjectName(l, n)))) ?? [];
  if (targets.length === 0 && appNs !== undefined) {
    if (appLabel !== undefined) targets = [{ kind: appKind, namespace: appNs, pods: { kind: 'labels', labels: appLabel } }];
    else if (targetPods.length > 0) targets = [{ kind: 'pod', namespace: appNs, pods: { kind: 'names', names: targetPods } }];
  }
  const label = r.labelOf('TARGETS');
  if (targets.length === 0 && !r.problems.some((p) => p.variable === label)) {
    r.problem(label, 'no target pods: set TARGETS (e.g. deployment:shop:[app=frontend]) or APP_NS with APP_LABEL or TARGET_PODS (the ChaosEngine\'s spec.appinfo sets them)');
  }
  return { targets, targetPods };
}

/**
 * LIB_IMAGE, LIB_IMAGE_PULL_POLICY, TERMINATION_GRACE_PERIOD_SECONDS, as litmus-go's network-chaos helpers read them
 * (pkg/generic/network-chaos/environment/environment.go). The chaos-runner always sets the last two
 * (pkg/utils/environment.go): the pull policy from the ChaosExperiment's imagePullPolicy, the grace from the
 * ChaosEngine's spec.terminationGracePeriodSeconds, "0" when the engine has none — so 0 means "not set" here
 * (a helper killed without grace could not revert).
 */
function readHelperPod(r: Reader): HelperPodSettings {
  const image = r.optional('LIB_IMAGE', parseImage);
  const pullPolicy = r.optional('LIB_IMAGE_PULL_POLICY', parsePullPolicy);
  const graceS = r.optional('TERMINATION_GRACE_PERIOD_SECONDS', (l, t) => parseNumber(l, t, { max: 3600, unit: 'seconds (0-3600)', integer: true }));
  const copyRunnerData = r.value('SET_HELPER_DATA', parseBoolean) ?? true;
  return { image, pullPolicy, graceS: graceS === 0 ? undefined : graceS, copyRunnerData };
}

const pullPolicies: readonly PullPolicy[] = ['Always', 'IfNotPresent', 'Never'];

function parsePullPolicy(label: string, raw: string): PullPolicy {
  const found = pullPolicies.find((p) => p.toLowerCase() === raw.trim().toLowerCase());
  if (!found) throw new UsageError(label, `expected Always, IfNotPresent or Never, got ${JSON.stringify(raw)}`);
  return found;
}

/** A container image reference (`[registry/]path[:tag][@digest]`), as the kubelet would accept it. */
function parseImage(label: string, raw: string): string {
  return parseToken(label, raw, /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@[a-z0-9]+:[a-f0-9]{32,})?$/i, 'an image reference such as registry.example/netchaos:0.1.0');
}

function parseSequence(label: string, raw: string): Sequence {
  const t = raw.trim().toLowerCase();
  if (t === 'parallel' || t === 'serial') return t;
  // litmus-go's random: one after the other in a random order; the target selection is already shuffled.
  if (t === 'random') return 'serial';
  throw new UsageError(label, `expected parallel, serial or random, got ${JSON.stringify(raw)}`);
}

function parseHelperMode(label: string, raw: string): HelperMode {
  const t = raw.trim().toLowerCase();
  if (t === 'auto' || t === 'never' || t === 'always') return t;
  throw new UsageError(label, `expected auto, never or always, got ${JSON.stringify(raw)}`);
}

function parseContainerName(label: string, raw: string): string {
  return parseToken(label, raw, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a container name');
}

function parseToken(label: string, raw: string, pattern: RegExp, what: string): string {
  const t = raw.trim();
  if (!pattern.test(t)) throw new UsageError(label, `expected ${what}, got ${JSON.stringify(raw)}`);
  return t;
}
