/**
 * Reading a ChaosEngine's probes, before any chaos: where they are (litmus-go pkg/utils/common/common.go
 * GetValuesFromChaosEngine), the chaos-operator's field names (chaosengine_types.go ProbeAttributes), the
 * Go durations of runProperties (pkg/types/types.go parseProbeTimeouts), attempts (pkg/probe/probe.go
 * getAttempts), the unsupported sloProbe (pkg/probe/probe.go execute), and every error naming the probe
 * and the field.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssue, parseProbes, type ProbeIssue } from '../../src/probes/spec.ts';
import { prepareProbes, checkMessage } from '../../src/probes/index.ts';
import { memoryLogger } from '../support/fake-ports.ts';
import { cmdProbe, engine, EXPERIMENT, httpProbe, k8sProbe, promProbe, run } from './probe-fixtures.ts';

const files: Record<string, string> = { '/mnt/body.json': '{"ping":1}', '/mnt/query.promql': '  sum(up)\n' };
const readFile = (p: string): string => {
  const f = files[p];
  if (f === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
  return f;
};
const parse = (probes: unknown, o: Parameters<typeof engine>[1] = {}) => parseProbes(engine(probes, o), EXPERIMENT, { readFile });

function errorsOf(probes: unknown): string[] {
  const r = parse(probes);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors.map(formatIssue);
}

function only(probes: unknown) {
  const r = parse(probes);
  if (!r.ok) assert.fail(r.errors.map(formatIssue).join('\n'));
  assert.equal(r.probes.length, 1);
  return r.probes[0]!;
}

const U = 'http://app.shop.svc:8080/health';

describe('where the probes are (common.go GetValuesFromChaosEngine)', () => {
  test('the probes of the experiment named EXPERIMENT_NAME, in order; another experiment\'s are ignored', () => {
    const r = parse([httpProbe('a', 'SOT', U), httpProbe('b', 'OnChaos', U)]);
    assert.ok(r.ok);
    assert.deepEqual(r.probes.map((p) => `${p.name}/${p.type}/${p.mode}/${p.index}`), ['a/httpProbe/SOT/0', 'b/httpProbe/OnChaos/1']);
  });
  test('no experiment of that name, or no probe list: no probes (litmus-go: nil)', () => {
    const none = parseProbes(engine([httpProbe('a', 'SOT', U)]), 'another-experiment', { readFile });
    assert.deepEqual(none, { ok: true, probes: [], warnings: [] });
    assert.deepEqual(parse(undefined), { ok: true, probes: [], warnings: [] });
  });
  test('a probeRef annotation with no inline probes is worth a warning (ChaosCenter expands them before a run)', () => {
    const r = parse(undefined, { annotations: { probeRef: '[{"name":"p","mode":"SOT"}]' } });
    assert.ok(r.ok);
    assert.match(r.warnings[0] ?? '', /probeRef annotation but no probes/);
  });
  test('an engine without spec.experiments is an error', () => {
    const r = parseProbes({ spec: {} }, EXPERIMENT, { readFile });
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors.map(formatIssue), ['ChaosEngine spec.experiments: must be a list']);
  });
});

describe('runProperties (types.go parseProbeTimeouts: Go durations; probe.go getAttempts)', () => {
  test('Go durations become milliseconds; empty optional ones are 0', () => {
    const p = only([httpProbe('a', 'Continuous', U, { run: { probeTimeout: '1.5s', interval: '500ms', probePollingInterval: '1m', initialDelay: '', stopOnFailure: true, verbosity: 'info' } })]);
    assert.deepEqual(p.run, { probeTimeoutMs: 1500, intervalMs: 500, pollingIntervalMs: 60_000, initialDelayMs: 0, evaluationTimeoutMs: undefined, attempts: 1, stopOnFailure: true, verbosity: 'info' });
  });
  test('attempt wins over retry; retry counts when attempt is 0 or unset; else 1', () => {
    assert.equal(only([httpProbe('a', 'SOT', U, { run: { attempt: 3, retry: 5 } })]).run.attempts, 3);
    assert.equal(only([httpProbe('a', 'SOT', U, { run: { attempt: 0, retry: 5 } })]).run.attempts, 5);
    assert.equal(only([httpProbe('a', 'SOT', U, { run: { retry: 2 } })]).run.attempts, 2);
    assert.equal(only([httpProbe('a', 'SOT', U)]).run.attempts, 1);
  });
  test('a duration Go refuses names the probe and the field, with Go\'s message and a hint', () => {
    assert.deepEqual(errorsOf([httpProbe('check-front', 'SOT', U, { run: { probeTimeout: '5' } })]), [
      'probe "check-front": runProperties.probeTimeout: time: missing unit in duration "5" (add a unit, e.g. "5s")',
    ]);
    assert.deepEqual(errorsOf([httpProbe('p', 'SOT', U, { run: { interval: '2 sec', initialDelay: '1d' } })]), [
      'probe "p": runProperties.interval: time: unknown unit " sec" in duration "2 sec" (a Go duration such as "5s", "500ms" or "1m30s")',
      'probe "p": runProperties.initialDelay: time: unknown unit "d" in duration "1d" (a Go duration such as "5s", "500ms" or "1m30s")',
    ]);
  });
  test('probeTimeout is required and must be more than 0 (every try needs a deadline); no duration may be negative', () => {
    const noTimeout = httpProbe('p', 'SOT', U);
    delete (noTimeout['runProperties'] as Record<string, unknown>)['probeTimeout'];
    assert.deepEqual(errorsOf([noTimeout]), ['probe "p": runProperties.probeTimeout: is required']);
    assert.match(errorsOf([httpProbe('p', 'SOT', U, { run: { probeTimeout: '0s' } })])[0] ?? '', /must be more than 0/);
    assert.match(errorsOf([httpProbe('p', 'SOT', U, { run: { probePollingInterval: '-1s' } })])[0] ?? '', /runProperties.probePollingInterval: must not be negative, got "-1s"/);
    assert.match(errorsOf([httpProbe('p', 'SOT', U, { run: { attempt: -1 } })])[0] ?? '', /runProperties.attempt: must not be negative/);
    assert.match(errorsOf([httpProbe('p', 'SOT', U, { run: { attempt: '3' } })])[0] ?? '', /runProperties.attempt: must be an integer, got "3"/);
    assert.match(errorsOf([httpProbe('p', 'SOT', U, { run: { stopOnFailure: 'yes' } })])[0] ?? '', /runProperties.stopOnFailure: must be true or false/);
  });
  test('evaluationTimeout is parsed (an error when invalid) but only sloProbe uses it: a warning; initialDelaySeconds is ignored, with a warning', () => {
    assert.match(errorsOf([httpProbe('p', 'SOT', U, { run: { evaluationTimeout: 'soon' } })])[0] ?? '', /runProperties.evaluationTimeout: time: invalid duration "soon"/);
    const r = parse([httpProbe('p', 'SOT', U, { run: { evaluationTimeout: '30s', initialDelaySeconds: 5 } })]);
    assert.ok(r.ok);
    assert.equal(r.probes[0]?.run.evaluationTimeoutMs, 30_000);
    assert.equal(r.probes[0]?.run.initialDelayMs, 0);
    assert.equal(r.warnings.length, 2);
  });
});

describe('types and modes (CRD patterns; probe.go execute)', () => {
  test('sloProbe is refused as unsupported, like litmus-go; unknown types and modes name the allowed ones', () => {
    assert.deepEqual(errorsOf([{ name: 'slo', type: 'sloProbe', mode: 'EOT', 'sloProbe/inputs': {}, runProperties: run() }]), [
      'probe "slo": type: sloProbe is not supported: litmus-go has no sloProbe runner either ("probe type not supported"); use a promProbe on the SLO\'s metric',
    ]);
    assert.deepEqual(errorsOf([{ ...httpProbe('x', 'SOT', U), type: 'tcpProbe' }]), ['probe "x": type: must be one of httpProbe, cmdProbe, k8sProbe, promProbe, got "tcpProbe"']);
    assert.deepEqual(errorsOf([httpProbe('x', 'Always', U)]), ['probe "x": mode: must be one of SOT, EOT, Edge, Continuous, OnChaos, got "Always"']);
  });
  test('names are required and unique (probeStatuses are keyed by name)', () => {
    const errors = errorsOf([httpProbe('', 'SOT', U), httpProbe('a', 'SOT', U), httpProbe('a', 'EOT', U)]);
    assert.deepEqual(errors, ['probe "#0": name: is required (probeStatuses are keyed by name)', 'probe "a": name: is used by two probes of this experiment; names must be unique (probeStatuses are keyed by name)']);
  });
  test('the inputs block of the type is required (litmus-go would dereference nil)', () => {
    assert.deepEqual(errorsOf([{ name: 'p', type: 'httpProbe', mode: 'SOT', runProperties: run() }]), ['probe "p": httpProbe/inputs: is required']);
  });
  test('every problem is reported at once, across probes', () => {
    const errors = errorsOf([httpProbe('a', 'SOT', 'ftp://x', { run: { probeTimeout: '1' } }), cmdProbe('b', 'EOT', '', { type: 'int', criteria: '==', value: '1' })]);
    assert.equal(errors.length, 3);
  });
});

describe('httpProbe inputs (httpprobe.go)', () => {
  test('get: url and an int comparator on responseCode', () => {
    const p = only([httpProbe('a', 'SOT', U, { criteria: 'oneOf', code: '200,204' })]);
    assert.ok(p.type === 'httpProbe' && p.method.kind === 'GET');
    assert.deepEqual(p.method.comparator.expected, [200n, 204n]);
  });
  test('post: body wins over bodyPath; bodyPath is read before the chaos; one of them is required', () => {
    const withBody = only([httpProbe('a', 'SOT', U, { post: { body: 'x=1', bodyPath: '/mnt/body.json', contentType: 'application/x-www-form-urlencoded', criteria: '==', responseCode: '201' } })]);
    assert.ok(withBody.type === 'httpProbe' && withBody.method.kind === 'POST');
    assert.equal(withBody.method.body, 'x=1');
    const fromFile = only([httpProbe('a', 'SOT', U, { post: { bodyPath: '/mnt/body.json', criteria: '==', responseCode: '201' } })]);
    assert.ok(fromFile.type === 'httpProbe' && fromFile.method.kind === 'POST');
    assert.equal(fromFile.method.body, '{"ping":1}');
    assert.deepEqual(errorsOf([httpProbe('a', 'SOT', U, { post: { bodyPath: '/nope', criteria: '==', responseCode: '201' } })]), [
      'probe "a": httpProbe/inputs.method.post.bodyPath: cannot read "/nope" in the experiment pod: ENOENT: no such file or directory, open \'/nope\'',
    ]);
    assert.match(errorsOf([httpProbe('a', 'SOT', U, { post: { criteria: '==', responseCode: '201' } })])[0] ?? '', /needs body or bodyPath/);
  });
  test('bad url, bad criteria, missing method', () => {
    assert.match(errorsOf([httpProbe('a', 'SOT', 'app:8080/health')])[0] ?? '', /is not a URL|only http and https/);
    assert.match(errorsOf([httpProbe('a', 'SOT', U, { criteria: 'equal' })])[0] ?? '', /httpProbe\/inputs.method.get: criteria "equal" is not one litmus-go supports for type int/);
    assert.match(errorsOf([httpProbe('a', 'SOT', U, { code: 'OK' })])[0] ?? '', /value "OK" is not an integer/);
    assert.deepEqual(errorsOf([{ name: 'a', type: 'httpProbe', mode: 'SOT', 'httpProbe/inputs': { url: U, method: {} }, runProperties: run() }]), ['probe "a": httpProbe/inputs.method: needs get or post']);
  });
});

describe('cmdProbe inputs (cmdprobe.go)', () => {
  test('command and comparator (type int/float/string), inline or with a source', () => {
    const p = only([cmdProbe('c', 'Edge', 'echo 1', { type: 'INT', criteria: '>=', value: '1' })]);
    assert.ok(p.type === 'cmdProbe');
    assert.equal(p.comparator.type, 'int');
    assert.equal(p.source, undefined);
    const s = only([cmdProbe('c', 'SOT', 'nslookup db', { type: 'string', criteria: 'contains', value: 'Address' }, { source: { image: 'busybox:1.36', env: [{ name: 'A', value: '1' }], labels: { team: 'sre' } } })]);
    assert.ok(s.type === 'cmdProbe' && s.source);
    assert.equal(s.source.image, 'busybox:1.36');
  });
  test('a comparator needs type, criteria and value; source needs an image', () => {
    assert.deepEqual(errorsOf([cmdProbe('c', 'SOT', 'echo', { criteria: '==', value: '1' })]), ['probe "c": cmdProbe/inputs.comparator.type: is required']);
    assert.deepEqual(errorsOf([cmdProbe('c', 'SOT', 'echo', { type: 'bool', criteria: '==', value: '1' })]), ['probe "c": cmdProbe/inputs.comparator.type: must be int, float or string, got "bool"']);
    assert.deepEqual(errorsOf([cmdProbe('c', 'SOT', 'echo', { type: 'int', criteria: '==', value: '1' }, { source: { imagePullPolicy: 'Sometimes' } })]), [
      'probe "c": cmdProbe/inputs.source.image: is required',
      'probe "c": cmdProbe/inputs.source.imagePullPolicy: must be Always, IfNotPresent or Never, got "Sometimes"',
    ]);
  });
  test('probe chaining: {{ .<cmdProbe>.ProbeArtifacts.Register }} is understood; other templates and unknown probes are errors', () => {
    const r = parse([
      cmdProbe('leader', 'SOT', 'cat /leader', { type: 'string', criteria: 'contains', value: 'pod' }),
      cmdProbe('check', 'EOT', 'test -n "{{ .leader.ProbeArtifacts.Register }}" && echo ok', { type: 'string', criteria: 'equal', value: 'ok' }),
    ]);
    assert.ok(r.ok);
    const check = r.probes[1];
    assert.ok(check?.type === 'cmdProbe');
    assert.deepEqual(check.command.refs, ['leader']);
    assert.match(errorsOf([cmdProbe('c', 'SOT', 'echo {{ .Env.HOME }}', { type: 'int', criteria: '==', value: '1' })])[0] ?? '', /is not supported: netchaos supports litmus-go's probe chaining/);
    assert.match(errorsOf([cmdProbe('c', 'SOT', 'echo {{ .ghost.ProbeArtifacts.Register }}', { type: 'int', criteria: '==', value: '1' })])[0] ?? '', /refers to "ghost", which is not a cmdProbe/);
    assert.match(errorsOf([cmdProbe('c', 'SOT', 'echo {{ oops', { type: 'int', criteria: '==', value: '1' })])[0] ?? '', /unclosed "\{\{"/);
  });
});

describe('k8sProbe inputs (k8sprobe.go)', () => {
  test('group/version/resource/namespace, selectors, operation; data for create, parsed and matched with group/version', () => {
    const p = only([k8sProbe('k', 'EOT', { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'shop', labelSelector: 'app=web', operation: 'present' })]);
    assert.ok(p.type === 'k8sProbe');
    assert.equal(p.operation, 'present');
    const c = only([k8sProbe('k', 'SOT', { version: 'v1', resource: 'configmaps', namespace: 'shop', operation: 'create' }, { data: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: marker\n' })]);
    assert.ok(c.type === 'k8sProbe');
    assert.deepEqual(c.data, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'marker' } });
  });
  test('the errors a user makes: the Kind for the resource, no data for create, data of another group, bad operation', () => {
    assert.match(errorsOf([k8sProbe('k', 'SOT', { version: 'v1', resource: 'Pod', operation: 'present' })])[0] ?? '', /not a resource name: give the lowercase plural/);
    assert.deepEqual(errorsOf([k8sProbe('k', 'SOT', { version: 'v1', resource: 'configmaps', operation: 'create' })]), ['probe "k": data: is required for operation create: the manifest (YAML or JSON) of the object to create']);
    assert.deepEqual(errorsOf([k8sProbe('k', 'SOT', { group: 'apps', version: 'v1', resource: 'deployments', operation: 'create' }, { data: '{"apiVersion":"v1","kind":"ConfigMap"}' })]), [
      'probe "k": data: apiVersion "v1" does not match the probe\'s group/version "apps/v1"',
    ]);
    assert.deepEqual(errorsOf([k8sProbe('k', 'SOT', { version: 'v1', resource: 'pods', operation: 'exists' })]), ['probe "k": k8sProbe/inputs.operation: must be present, absent, create or delete, got "exists"']);
    assert.deepEqual(errorsOf([k8sProbe('k', 'SOT', { version: 'v1', resource: 'pods', operation: 'present', resourceNames: 'a,,b' })]), ['probe "k": k8sProbe/inputs.resourceNames: "a,,b" has an empty name (comma-separated names, e.g. "web-0,web-1")']);
  });
});

describe('promProbe inputs (promProbe.go)', () => {
  test('endpoint, query (wins) or queryPath (read now), compared as float whatever comparator.type', () => {
    const p = only([promProbe('p', 'EOT', 'http://prometheus:9090', 'sum(rate(http_requests_total[1m]))', { criteria: '>', value: '0' })]);
    assert.ok(p.type === 'promProbe');
    assert.equal(p.comparator.type, 'float');
    const f = only([{ ...promProbe('p', 'EOT', 'http://prometheus:9090', '', { criteria: '>', value: '0' }), 'promProbe/inputs': { endpoint: 'http://prometheus:9090', queryPath: '/mnt/query.promql', comparator: { criteria: '>', value: '0' } } }]);
    assert.ok(f.type === 'promProbe');
    assert.equal(f.query, 'sum(up)');
    assert.match(errorsOf([promProbe('p', 'EOT', 'http://prometheus:9090', 'up', { type: 'string', criteria: 'equal', value: '1' })]).join('\n'), /promProbe always compares as float/);
    assert.match(errorsOf([promProbe('p', 'EOT', 'prometheus:9090', 'up', { criteria: '==', value: '1' })])[0] ?? '', /endpoint/);
    assert.match(errorsOf([promProbe('p', 'EOT', 'http://p:9090', '', { criteria: '==', value: '1' })])[0] ?? '', /needs query or queryPath/);
  });
});

describe('prepareProbes: what this run can run', () => {
  test('a k8sProbe without the Kubernetes API, a source cmdProbe without exec: errors before any chaos, one message', () => {
    const { log } = memoryLogger();
    const r = prepareProbes(engine([
      k8sProbe('k', 'SOT', { version: 'v1', resource: 'pods', operation: 'present' }),
      cmdProbe('c', 'SOT', 'true', { type: 'int', criteria: '==', value: '0' }, { source: { image: 'busybox' } }),
    ]), EXPERIMENT, { log });
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.deepEqual(r.errors.map((e: ProbeIssue) => `${e.probe} ${e.field}`), ['k type', 'c cmdProbe/inputs.source']);
    assert.match(r.message, /^the ChaosEngine's probes are not valid:\n {2}probe "k": type: a k8sProbe needs the Kubernetes API/);
  });
  test('ready probes start Awaited (the ChaosResult at the start of the run)', () => {
    const { log } = memoryLogger();
    const r = prepareProbes(engine([httpProbe('a', 'SOT', U), httpProbe('b', 'OnChaos', U)]), EXPERIMENT, { log });
    assert.ok(r.ok);
    assert.deepEqual(r.probes.statuses(), [
      { name: 'a', type: 'httpProbe', mode: 'SOT', status: { verdict: 'Awaited' } },
      { name: 'b', type: 'httpProbe', mode: 'OnChaos', status: { verdict: 'Awaited' } },
    ]);
    assert.deepEqual(r.probes.finalResult({ phase: 'Running', verdict: 'Awaited' }).probeSuccessPercentage, 'Awaited');
  });
});

test('PreChaosCheck/PostChaosCheck messages (common.go GetStatusMessage)', () => {
  assert.equal(checkMessage(true, undefined), 'AUT: Running');
  assert.equal(checkMessage(true, 'Successful'), 'AUT: Running, Probes: Successful');
  assert.equal(checkMessage(false, 'Unsuccessful'), 'Probes: Unsuccessful');
  assert.equal(checkMessage(false, undefined), 'Skipped the default checks');
});
