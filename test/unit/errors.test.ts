/** The one error table: every kind of failure → the process's exit code, the ChaosResult's errorCode and verdict. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContainerRuntimeError, DependencyError, EffectNotVerifiedError, HealthCheckError, HelperFailure, PlanError, RefusedError, RevertError,
  RuntimeError, TargetGoneError, TargetSelectionError, UsageError, UsageErrors, errorTable, exitCodeOf, litmusCodeOf, messageOf, verdictOf,
} from '../../src/model/errors.ts';
import { KubeError } from '../../src/kube/api.ts';

/** [error, exit code, Litmus errorCode before any change, after the fault may have been applied, verdict] */
const rows: [unknown, number, string, string, 'Fail' | 'Error'][] = [
  [new UsageError('NETWORK_LATENCY', 'bad'), 2, 'GENERIC_ERROR', 'GENERIC_ERROR', 'Error'],
  [new UsageErrors([new UsageError('A', 'x'), new UsageError('B', 'y')]), 2, 'GENERIC_ERROR', 'GENERIC_ERROR', 'Error'],
  [new PlanError('DESTINATION_IPS', 'a full u32 table'), 2, 'GENERIC_ERROR', 'GENERIC_ERROR', 'Error'],
  [new RuntimeError('tc is not installed'), 1, 'GENERIC_ERROR', 'CHAOS_INJECT_ERROR', 'Error'],
  [new KubeError('forbidden', 403), 1, 'GENERIC_ERROR', 'CHAOS_INJECT_ERROR', 'Error'],
  [new RefusedError('a tree is there'), 5, 'GENERIC_ERROR', 'CHAOS_INJECT_ERROR', 'Error'],
  [new TargetGoneError('gone'), 4, 'GENERIC_ERROR', 'CHAOS_INJECT_ERROR', 'Error'],
  [new RevertError('busy', 'root qdisc', 'netchaos revert'), 3, 'CHAOS_REVERT_ERROR', 'CHAOS_REVERT_ERROR', 'Error'],
  [new EffectNotVerifiedError('off'), 6, 'EFFECT_CHECK_ERROR', 'EFFECT_CHECK_ERROR', 'Fail'],
  [new TargetSelectionError('no pod'), 1, 'TARGET_SELECTION_ERROR', 'TARGET_SELECTION_ERROR', 'Error'],
  [new ContainerRuntimeError('no socket'), 1, 'CONTAINER_RUNTIME_ERROR', 'CONTAINER_RUNTIME_ERROR', 'Error'],
  [new DependencyError('no endpoints'), 1, 'TARGET_SELECTION_ERROR', 'TARGET_SELECTION_ERROR', 'Error'],
  [new HealthCheckError('not ready'), 1, 'STATUS_CHECKS_ERROR', 'STATUS_CHECKS_ERROR', 'Error'],
  [new HelperFailure('node b failed', 'CONTAINER_RUNTIME_ERROR'), 1, 'CONTAINER_RUNTIME_ERROR', 'CONTAINER_RUNTIME_ERROR', 'Error'],
  [new Error('a bug'), 1, 'GENERIC_ERROR', 'CHAOS_INJECT_ERROR', 'Error'],
  ['thrown text', 1, 'GENERIC_ERROR', 'CHAOS_INJECT_ERROR', 'Error'],
];

describe('the error table', () => {
  for (const [error, exit, before, after, verdict] of rows) {
    test(`${error instanceof Error ? error.name : typeof error} → exit ${exit}, ${before}/${after}, ${verdict}`, () => {
      assert.equal(exitCodeOf(error), exit);
      assert.equal(litmusCodeOf(error, false), before);
      assert.equal(litmusCodeOf(error, true), after);
      assert.equal(verdictOf(error), verdict);
    });
  }
  test('every code of the table is carried by an error above', () => {
    const codes = new Set(rows.map(([e]) => (e instanceof Error && 'code' in e ? e.code : undefined)));
    for (const code of Object.keys(errorTable)) assert.ok(codes.has(code), code);
  });
  test('messageOf: the message of an Error, the text of anything else', () => {
    assert.equal(messageOf(new RevertError('busy', 'x', 'y')), 'busy');
    assert.equal(messageOf(new UsageError('FORCE', 'expected true or false')), 'FORCE: expected true or false');
    assert.equal(messageOf(42), '42');
  });
});
