/** What `netchaos run` (Litmus mode) is asked to do, beyond the fault: which pods, how, and which ChaosResult to write. */
import type { TargetSelector } from './kube.js';

/** Where a helper pod writes its result: its container's termination log, which the kubelet keeps in the pod's status. */
export const RESULT_PATH = '/dev/termination-log';

export type HelperMode = 'auto' | 'never' | 'always';
export type Sequence = 'parallel' | 'serial';
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** What a helper pod takes from LIB_IMAGE, LIB_IMAGE_PULL_POLICY and TERMINATION_GRACE_PERIOD_SECONDS (undefined: from the runner's pod / our default). */
export interface HelperPodSettings {
  readonly image: string | undefined;
  readonly pullPolicy: PullPolicy | undefined;
  readonly graceS: number | undefined;
  /** SET_HELPER_DATA: copy the runner pod's annotations and resources (labels are copied either way, as litmus-go). */
  readonly copyRunnerData: boolean;
}

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
  readonly sequence: Sequence;
  /** Where pods on other nodes are injected: see HELPER_MODE. */
  readonly helperMode: HelperMode;
  readonly helperStartTimeoutS: number;
  readonly helperPod: HelperPodSettings;
  readonly healthCheck: boolean;
  /** STATUS_CHECK_DELAY / STATUS_CHECK_TIMEOUT, in ms. */
  readonly statusCheck: { readonly delayMs: number; readonly timeoutMs: number };
  readonly chaosNamespace: string;
  /** Undefined: not run by Litmus; no ChaosResult and no Events. */
  readonly engine: string | undefined;
  readonly chaosUid: string;
  readonly experimentName: string;
  readonly instanceId: string | undefined;
  readonly podName: string;
  readonly nodeName: string;
}

/** What names the run's ChaosResult and Events: all the Reporter needs of the Litmus spec. */
export type RunIdentity = Pick<LitmusSpec, 'chaosNamespace' | 'engine' | 'experimentName' | 'instanceId' | 'chaosUid' | 'podName' | 'nodeName'>;

/** `<CHAOSENGINE>-<EXPERIMENT_NAME>[-<INSTANCE_ID>]`, as litmus-go names it. */
export function resultName(l: Pick<LitmusSpec, 'engine' | 'experimentName' | 'instanceId'>): string | undefined {
  if (l.engine === undefined) return undefined;
  return [l.engine, l.experimentName, ...(l.instanceId !== undefined ? [l.instanceId] : [])].join('-');
}
