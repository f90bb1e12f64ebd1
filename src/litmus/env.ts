/**
 * The Litmus ENV (set by the chaos-operator, the chaos-runner and the ChaosEngine) → a typed LitmusSpec.
 * Like buildSpec: all problems at once as UsageErrors, before anything is touched.
 */
import { UsageError, UsageErrors } from '../errors.js';
import type { RawValue, SpecInput } from '../config/spec.js';
import { assertPrintable, parseBoolean, parseNumber, parseSeconds, splitList } from '../config/values.js';
import { type VariableName, variable } from '../config/vars.js';
import {
  type TargetSelector,
  parseKind,
  parseLabelSelector,
  parseNamespace,
  parseObjectName,
  parseTargets,
} from '../kube/selectors.js';

export type HelperMode = 'auto' | 'never' | 'always';

export interface PercentRange {
  readonly min: number;
  readonly max: number;
}

export interface LitmusSpec {
  readonly targets: readonly TargetSelector[];
  /** TARGET_PODS: names in the namespace of the first selector. */
  readonly targetPods: readonly string[];
  readonly podsAffected: PercentRange;
  readonly nodeLabel: string | undefined;
  readonly targetContainer: string | undefined;
  readonly sequence: 'parallel' | 'serial';
  /** Where pods on other nodes are injected: see HELPER_MODE. */
  readonly helperMode: HelperMode;
  readonly helperStartTimeoutS: number;
  readonly healthCheck: boolean;
  readonly chaosNamespace: string;
  /** Undefined: not run by Litmus; no ChaosResult and no Events. */
  readonly engine: string | undefined;
  readonly chaosUid: string;
  readonly experimentName: string;
  readonly instanceId: string | undefined;
  readonly podName: string;
  readonly nodeName: string;
}

/** `<CHAOSENGINE>-<EXPERIMENT_NAME>[-<INSTANCE_ID>]`, as litmus-go names it. */
export function resultName(l: Pick<LitmusSpec, 'engine' | 'experimentName' | 'instanceId'>): string | undefined {
  if (l.engine === undefined) return undefined;
  return [l.engine, l.experimentName, ...(l.instanceId !== undefined ? [l.instanceId] : [])].join('-');
}

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

/**
 * Just what names the run's ChaosResult, read leniently: used to report bad input (exit 2) to
 * ChaosCenter when the rest of the ENV does not parse. Undefined when the run cannot be named.
 */
export function readRunIdentity(input: Pick<SpecInput, 'get'>): RunIdentityFields | undefined {
  const read = <T>(name: VariableName, parse: (label: string, text: string) => T): T | undefined => {
    const given = input.get(name);
    const text = given !== undefined && given.value !== '' ? given.value : variable(name).default;
    try {
      return text.trim() === '' ? undefined : parse(name, text);
    } catch {
      return undefined;
    }
  };
  const engine = read('CHAOSENGINE', parseObjectName);
  const experimentName = read('EXPERIMENT_NAME', parseObjectName);
  const chaosNamespace = read('CHAOS_NAMESPACE', parseNamespace);
  if (engine === undefined || experimentName === undefined || chaosNamespace === undefined) return undefined;
  return {
    chaosNamespace, engine, experimentName,
    instanceId: read('INSTANCE_ID', (l, t) => parseToken(l, t, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lower-case letters, digits and -')),
    chaosUid: read('CHAOS_UID', (l, t) => parseToken(l, t, /^[A-Za-z0-9-]*$/, 'a UID')) ?? '',
    podName: read('POD_NAME', parseObjectName) ?? '',
    nodeName: read('NODE_NAME', parseObjectName) ?? '',
  };
}

export type RunIdentityFields = Pick<LitmusSpec, 'chaosNamespace' | 'engine' | 'experimentName' | 'instanceId' | 'chaosUid' | 'podName' | 'nodeName'>;

export function buildLitmusSpec(input: Pick<SpecInput, 'get'>): LitmusSpec {
  const problems: UsageError[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof UsageError) {
        problems.push(error);
        return undefined;
      }
      throw error;
    }
  };
  const raw = (name: VariableName): RawValue => {
    const given = input.get(name);
    if (given !== undefined && given.value !== '') {
      attempt(() => { assertPrintable(given.label, variable(name).semicolonList ? given.value.replaceAll(';', ',') : given.value); });
      return given;
    }
    return { value: variable(name).default, label: name };
  };
  const value = <T>(name: VariableName, parse: (label: string, text: string) => T): T | undefined => {
    const r = raw(name);
    return attempt(() => parse(r.label, r.value));
  };
  const optional = <T>(name: VariableName, parse: (label: string, text: string) => T): T | undefined =>
    value(name, (l, t) => (t.trim() === '' ? undefined : parse(l, t)));

  let targets = value('TARGETS', parseTargets) ?? [];
  const appNs = optional('APP_NS', parseNamespace);
  const appLabel = optional('APP_LABEL', parseLabelSelector);
  const appKind = value('APP_KIND', parseKind) ?? 'any';
  const targetPods = value('TARGET_PODS', (l, t) => (t.trim() === '' ? [] : splitList(l, t).map((n) => parseObjectName(l, n)))) ?? [];
  if (targets.length === 0 && appNs !== undefined) {
    if (appLabel !== undefined) targets = [{ kind: appKind, namespace: appNs, pods: { kind: 'labels', labels: appLabel } }];
    else if (targetPods.length > 0) targets = [{ kind: 'pod', namespace: appNs, pods: { kind: 'names', names: targetPods } }];
  }
  const raws = { targets: raw('TARGETS'), appNs: raw('APP_NS') };
  if (targets.length === 0 && !problems.some((p) => p.variable === raws.targets.label)) {
    problems.push(new UsageError(raws.targets.label, 'no target pods: set TARGETS (e.g. deployment:shop:[app=frontend]) or APP_NS with APP_LABEL or TARGET_PODS (the ChaosEngine\'s spec.appinfo sets them)'));
  }

  const podsAffected = value('PODS_AFFECTED_PERC', parsePercentRange);
  const nodeLabel = optional('NODE_LABEL', parseLabelSelector);
  const targetContainer = optional('TARGET_CONTAINER', parseContainerName);
  const sequence = value('SEQUENCE', parseSequence);
  const helperMode = value('HELPER_MODE', parseHelperMode);
  const helperStartTimeoutS = value('HELPER_START_TIMEOUT', (l, t) => parseSeconds(l, t, { min: 1 }));
  const healthCheck = value('DEFAULT_HEALTH_CHECK', parseBoolean);
  const chaosNamespace = value('CHAOS_NAMESPACE', parseNamespace);
  const engine = optional('CHAOSENGINE', parseObjectName);
  const chaosUid = value('CHAOS_UID', (l, t) => parseToken(l, t, /^[A-Za-z0-9-]*$/, 'a UID'));
  const experimentName = optional('EXPERIMENT_NAME', parseObjectName);
  const instanceId = optional('INSTANCE_ID', (l, t) => parseToken(l, t, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lower-case letters, digits and -'));
  const podName = value('POD_NAME', (l, t) => (t.trim() === '' ? '' : parseObjectName(l, t)));
  const nodeName = value('NODE_NAME', (l, t) => {
    if (t.trim() === '') throw new UsageError(l, 'unknown node: set NODE_NAME from the downward API (fieldRef spec.nodeName) so only pods on this node are touched');
    return parseObjectName(l, t);
  });
  if (helperMode === 'always' && podName === '') {
    problems.push(new UsageError(raw('HELPER_MODE').label, 'always needs POD_NAME (set by the chaos-runner): helper pods copy this pod\'s image, service account, tolerations and pull secrets'));
  }
  if (engine !== undefined && experimentName === undefined) {
    problems.push(new UsageError(raw('EXPERIMENT_NAME').label, 'required with CHAOSENGINE: the ChaosResult is named <CHAOSENGINE>-<EXPERIMENT_NAME>'));
  }

  if (problems.length > 0) throw new UsageErrors(problems);
  if (podsAffected === undefined || sequence === undefined || helperMode === undefined || helperStartTimeoutS === undefined ||
      healthCheck === undefined || chaosNamespace === undefined ||
      chaosUid === undefined || podName === undefined || nodeName === undefined) {
    throw new Error('unreachable: a value failed without a usage error');
  }
  return {
    targets, targetPods, podsAffected, nodeLabel, targetContainer, sequence, helperMode, helperStartTimeoutS, healthCheck, chaosNamespace, engine, chaosUid,
    experimentName: experimentName ?? '', instanceId, podName, nodeName,
  };
}

function parseSequence(label: string, raw: string): 'parallel' | 'serial' {
  const t = raw.trim().toLowerCase();
  if (t === 'parallel' || t === 'serial') return t;
  throw new UsageError(label, `expected parallel or serial, got ${JSON.stringify(raw)}`);
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
