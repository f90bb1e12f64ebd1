/**
 * What one probe attempt, or a probe, comes to. litmus-go tells two kinds of bad outcome apart
 * (pkg/cerrors/custom_errors.go): a *failure* (`*_PROBE_FAILURE`: the probe ran and its check did not
 * hold, or it timed out) fails the probe; an *error* (`*_PROBE_ERROR`: the probe could not be run as
 * configured) ends the experiment with Error (pkg/result/chaosresult.go RecordAfterFailure, IsProbeFailed).
 */
import type { ProbeType } from './spec.js';

export type ProbeFailureCode = 'HTTP_PROBE_FAILURE' | 'CMD_PROBE_FAILURE' | 'K8S_PROBE_FAILURE' | 'PROM_PROBE_FAILURE' | 'PROBE_TIMEOUT';
export type ProbeErrorCode = 'HTTP_PROBE_ERROR' | 'CMD_PROBE_ERROR' | 'K8S_PROBE_ERROR' | 'PROM_PROBE_ERROR';

/** A comparison that was made (for the log; litmus-go's "[Probe]: {Actual value}, {Expected value}, {Operator}"). */
export interface Evaluation {
  readonly actual: string;
  readonly expected: string;
  readonly criteria: string;
}

export type Outcome =
  | { readonly kind: 'pass'; readonly description: string; readonly evaluation?: Evaluation | undefined }
  | { readonly kind: 'fail'; readonly code: ProbeFailureCode; readonly description: string; readonly evaluation?: Evaluation | undefined }
  | { readonly kind: 'error'; readonly code: ProbeErrorCode; readonly description: string };

const prefix: Readonly<Record<ProbeType, string>> = { httpProbe: 'HTTP', cmdProbe: 'CMD', k8sProbe: 'K8S', promProbe: 'PROM' };

export const failureCode = (type: ProbeType): ProbeFailureCode => {
  const p = prefix[type];
  return p === 'HTTP' ? 'HTTP_PROBE_FAILURE' : p === 'CMD' ? 'CMD_PROBE_FAILURE' : p === 'K8S' ? 'K8S_PROBE_FAILURE' : 'PROM_PROBE_FAILURE';
};

export const errorCode = (type: ProbeType): ProbeErrorCode => {
  const p = prefix[type];
  return p === 'HTTP' ? 'HTTP_PROBE_ERROR' : p === 'CMD' ? 'CMD_PROBE_ERROR' : p === 'K8S' ? 'K8S_PROBE_ERROR' : 'PROM_PROBE_ERROR';
};

export const pass = (description: string, evaluation?: Evaluation): Outcome => ({ kind: 'pass', description, evaluation });
export const fail = (type: ProbeType, description: string, evaluation?: Evaluation): Outcome => ({ kind: 'fail', code: failureCode(type), description, evaluation });
export const probeError = (type: ProbeType, description: string): Outcome => ({ kind: 'error', code: errorCode(type), description });

/** The message of anything thrown. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
