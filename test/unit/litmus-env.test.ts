/** The Litmus ENV grammars: TARGETS, DESTINATION_PODS/SERVICES/HOSTS, PODS_AFFECTED_PERC. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostDestinations, parsePodDestinations, parseServiceDestinations, parseTargets } from '../../src/config/selectors.ts';
import { buildLitmusSpec, parsePercentRange } from '../../src/config/litmus.ts';
import { resultName } from '../../src/model/litmus.ts';
import { buildSpec } from '../../src/config/spec.ts';

describe('Litmus ENV', () => {
  test('TARGETS in the operator format, labels or names, several entries', () => {
    assert.deepEqual(parseTargets('TARGETS', 'deployment:shop:[app=frontend,tier!=canary];statefulset:db:[pg-0,pg-1];'), [
      { kind: 'deployment', namespace: 'shop', pods: { kind: 'labels', labels: 'app=frontend,tier!=canary' } },
      { kind: 'statefulset', namespace: 'db', pods: { kind: 'names', names: ['pg-0', 'pg-1'] } },
    ]);
    assert.throws(() => parseTargets('TARGETS', 'deployment:shop:app=frontend'), /TARGETS: "deployment:shop:app=frontend" is not <kind>/);
    assert.throws(() => parseTargets('TARGETS', 'cronjob:shop:[a=b]'), /unknown kind "cronjob"/);
    assert.throws(() => parseTargets('TARGETS', 'pod:Shop:[a=b]'), /"Shop" is not a valid namespace/);
  });
  test('dependencies: pods, Services, hosts', () => {
    assert.deepEqual(parsePodDestinations('DESTINATION_PODS', 'shop:[app=db]|5432;cache:[redis-0]'), [
      { namespace: 'shop', pods: { kind: 'labels', labels: 'app=db' }, ports: [5432] },
      { namespace: 'cache', pods: { kind: 'names', names: ['redis-0'] }, ports: [] },
    ]);
    assert.deepEqual(parseServiceDestinations('DESTINATION_SERVICES', 'shop/db|5432,shop/api|http'), [
      { namespace: 'shop', name: 'db', ports: [5432] }, { namespace: 'shop', name: 'api', ports: ['http'] },
    ]);
    assert.throws(() => parseServiceDestinations('DESTINATION_SERVICES', 'db'), /<namespace>\/<name>/);
    assert.deepEqual(parseHostDestinations('DESTINATION_HOSTS', 'API.example.com|443|8443,db'), [{ host: 'api.example.com', ports: [443, 8443] }, { host: 'db', ports: [] }]);
    assert.throws(() => parseHostDestinations('DESTINATION_HOSTS', '10.0.0.1'), /IP addresses go in DESTINATION_IPS/);
  });
  test('named dependencies make the Litmus group (never "all traffic"); ";" only where the grammar uses it', () => {
    const env: Record<string, string> = { DESTINATION_PODS: 'shop:[app=db];shop:[app=cache]' };
    const s = buildSpec({ get: (n) => (env[n] ? { value: env[n], label: n } : undefined), readFile: () => '' });
    assert.equal(s.groups[0]?.name, 'DESTINATION_IPS');
    assert.equal(s.groups[0]?.named?.pods.length, 2);
    assert.throws(() => buildSpec({ get: (n) => (n === 'DESTINATION_SERVICES' ? { value: 'shop/a;x', label: n } : undefined), readFile: () => '' }), /DESTINATION_SERVICES: ";" is not allowed/);
  });
  test('PODS_AFFECTED_PERC, the result name, all problems at once', () => {
    assert.deepEqual(parsePercentRange('P', ''), { min: 0, max: 0 });
    assert.deepEqual(parsePercentRange('P', '20-50'), { min: 20, max: 50 });
    assert.throws(() => parsePercentRange('P', '50-20'), /runs backwards/);
    const env: Record<string, string> = { TARGETS: 'pod:shop:[a]', NODE_NAME: 'n1', CHAOSENGINE: 'e', EXPERIMENT_NAME: 'x', INSTANCE_ID: 'r1' };
    assert.equal(resultName(buildLitmusSpec({ get: (n) => (env[n] ? { value: env[n], label: n } : undefined) })), 'e-x-r1');
    const bad: Record<string, string> = { TARGETS: 'pod:shop:[a]\nx', SEQUENCE: 'shuffle', CHAOSENGINE: 'e' };
    assert.throws(() => buildLitmusSpec({ get: (n) => (bad[n] ? { value: bad[n], label: n } : undefined) }), (e: Error) => {
      for (const re of [/TARGETS: control character/, /SEQUENCE: expected parallel, serial or random/, /NODE_NAME: unknown node/, /EXPERIMENT_NAME: required with CHAOSENGINE/]) assert.match(e.message, re);
      return true;
    });
  });
});
