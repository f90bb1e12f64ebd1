/**
 * promProbe (litmus-go pkg/probe/promProbe.go) against a real Prometheus: Debian's `prometheus` binary,
 * started here on a free loopback port with a temporary config that scrapes a /metrics endpoint this test
 * serves (a gauge and a counter the test changes). The test waits for the scrapes it depends on.
 * Without the binary the suite is skipped with the reason — unless CI or NETCHAOS_REQUIRE_PROMETHEUS is
 * set (.ci/run installs the package), where its absence fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareProbes } from '../../src/probes/index.ts';
import { memoryLogger } from '../support/fake-ports.ts';
import { closedPort, engine, EXPERIMENT, type Json, promProbe } from './probe-fixtures.ts';

const found = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
const required = Boolean(process.env['CI'] || process.env['NETCHAOS_REQUIRE_PROMETHEUS']);
const skip = !found && !required ? 'the prometheus binary is not installed here (apt-get install prometheus; CI installs it)' : false;

/** The metrics the test serves; Prometheus scrapes them every second. */
const metrics = { queueDepth: 3, requests: 0, latency: 0.12 };
let exporter: Server | undefined;
let prom: ChildProcess | undefined;
let promOutput = '';
let endpoint = '';
let dir = '';

async function query(q: string): Promise<{ status: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } }> {
  const res = await fetch(`${endpoint}/api/v1/query?${new URLSearchParams({ query: q }).toString()}`);
  return (await res.json()) as never;
}

/** Waits until Prometheus returns `want` for the query (its next scrapes), at most 20 s. */
async function until(q: string, want: (v: number) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const r = await query(q);
      const v = r.data?.result[0]?.value[1];
      last = JSON.stringify(r.data?.result ?? r);
      if (v !== undefined && want(Number(v))) return;
    } catch (error) {
      last = String(error);
    }
    await sleep(200);
  }
  assert.fail(`Prometheus never showed ${what} for ${q} (last: ${last}); its output:\n${promOutput.slice(-2000)}`);
}

async function sot(probe: Json) {
  const { log } = memoryLogger();
  const r = prepareProbes(engine([probe]), EXPERIMENT, { log });
  if (!r.ok) assert.fail(r.message);
  const phase = await r.probes.beforeChaos(new AbortController().signal);
  await r.probes.close();
  return { phase, status: r.probes.statuses()[0]!.status };
}

describe('promProbe against a real Prometheus', { skip }, () => {
  before(async () => {
    if (!found) assert.fail('prometheus is required here (CI / NETCHAOS_REQUIRE_PROMETHEUS) but is not installed: apt-get install prometheus');
    exporter = createServer((req, res) => {
      if (req.url !== '/metrics') { res.writeHead(404); res.end(); return; }
      metrics.requests += 5;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end([
        '# TYPE netchaos_test_queue_depth gauge', `netchaos_test_queue_depth ${metrics.queueDepth}`,
        '# TYPE netchaos_test_requests_total counter', `netchaos_test_requests_total{route="/a"} ${metrics.requests}`, `netchaos_test_requests_total{route="/b"} ${metrics.requests * 2}`,
        '# TYPE netchaos_test_latency_seconds gauge', `netchaos_test_latency_seconds ${metrics.latency}`, '',
      ].join('\n'));
    });
    await new Promise<void>((resolve) => exporter!.listen(0, '127.0.0.1', resolve));
    const target = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'netchaos-prom-'));
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
      'scrape_configs:', '  - job_name: app', '    static_configs:', `      - targets: ["${target}"]`, '',
    ].join('\n'));
    const port = await closedPort();
    endpoint = `http://127.0.0.1:${port}`;
    prom = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout?.on('data', (d: Buffer) => { promOutput += d.toString(); });
    prom.stderr?.on('data', (d: Buffer) => { promOutput += d.toString(); });
    await until('netchaos_test_queue_depth', (v) => v === 3, 'the first scrape');
  });
  after(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise<void>((resolve) => prom!.once('exit', () => { resolve(); }));
      prom.kill('SIGTERM');
      const bound = new AbortController();
      await Promise.race([exited, sleep(10_000, undefined, { signal: bound.signal }).catch(() => undefined)]);
      bound.abort();
      if (prom.exitCode === null) prom.kill('SIGKILL');
    }
    await new Promise<void>((resolve) => { if (exporter) exporter.close(() => { resolve(); }); else resolve(); });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a gauge compared as a float: passes, then fails once the scraped value changes', async () => {
    const ok = await sot(promProbe('queue', 'SOT', endpoint, 'netchaos_test_queue_depth', { criteria: '<=', value: '5' }));
    assert.deepEqual(ok.status, { verdict: 'Passed', description: 'Obtained the specified prometheus metrics. Actual value: 3. Expected value: <= 5' });
    metrics.queueDepth = 12;
    await until('netchaos_test_queue_depth', (v) => v === 12, 'the new value');
    const bad = await sot(promProbe('queue', 'SOT', endpoint, 'netchaos_test_queue_depth', { criteria: '<=', value: '5' }));
    assert.equal(bad.status.verdict, 'Failed');
    assert.equal(bad.status.description, 'query "netchaos_test_queue_depth" {__name__="netchaos_test_queue_depth", instance="' + new URL(`http://${(exporter!.address() as AddressInfo).address}:${(exporter!.address() as AddressInfo).port}`).host + '", job="app"}: Actual value: 12. Expected value: lesser than or equal to 5');
    metrics.queueDepth = 3;
  });

  test('an aggregated counter, between and oneOf on floats', async () => {
    await until('sum(netchaos_test_requests_total)', (v) => v >= 30, 'a few scrapes of the counter');
    assert.equal((await sot(promProbe('total', 'SOT', endpoint, 'sum(netchaos_test_requests_total)', { criteria: '>=', value: '30' }))).status.verdict, 'Passed');
    assert.equal((await sot(promProbe('lat', 'SOT', endpoint, 'netchaos_test_latency_seconds', { criteria: 'between', value: '0.1,0.2' }))).status.verdict, 'Passed');
    assert.equal((await sot(promProbe('lat', 'SOT', endpoint, 'netchaos_test_latency_seconds', { criteria: 'oneOf', value: '0.12,0.5' }))).status.verdict, 'Passed');
    assert.equal((await sot(promProbe('lat', 'SOT', endpoint, 'scalar(netchaos_test_latency_seconds) * 1000', { criteria: '<', value: '100' }))).status.verdict, 'Failed', 'a scalar answer is one value too');
  });

  test('not exactly one value is a probe error (extractValueFromMetrics), as is a query Prometheus refuses', async () => {
    const none = await sot(promProbe('none', 'SOT', endpoint, 'netchaos_test_missing_metric', { criteria: '>', value: '0' }));
    assert.equal(none.phase.kind, 'error');
    assert.match(none.phase.kind === 'error' ? none.phase.reason : '', /returned no series .* a promProbe needs exactly one value/);
    const two = await sot(promProbe('two', 'SOT', endpoint, 'netchaos_test_requests_total', { criteria: '>', value: '0' }));
    assert.match(two.phase.kind === 'error' ? two.phase.reason : '', /returned 2 series .* aggregate it/);
    const range = await sot(promProbe('range', 'SOT', endpoint, 'netchaos_test_queue_depth[5s]', { criteria: '>', value: '0' }));
    assert.match(range.phase.kind === 'error' ? range.phase.reason : '', /range vector/);
    const syntax = await sot(promProbe('syntax', 'SOT', endpoint, 'sum(', { criteria: '>', value: '0' }));
    assert.equal(syntax.phase.kind === 'error' ? syntax.phase.errorCode : '', 'PROM_PROBE_ERROR');
    assert.match(syntax.phase.kind === 'error' ? syntax.phase.reason : '', /Prometheus answered error: bad_data: .*parse error/);
  });

  test('a Prometheus that cannot be reached is a probe error (litmus-go: the promql command fails)', async () => {
    const port = await closedPort();
    const r = await sot(promProbe('down', 'SOT', `http://127.0.0.1:${port}`, 'up', { criteria: '==', value: '1' }));
    assert.equal(r.phase.kind, 'error');
    assert.match(r.phase.kind === 'error' ? r.phase.reason : '', /cannot query Prometheus at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  test('OnChaos: the metric going bad during the chaos fails the probe; Edge around it passes', async () => {
    await until('netchaos_test_queue_depth', (v) => v === 3, 'the value before the chaos');
    const { log } = memoryLogger();
    const r = prepareProbes(engine([
      promProbe('depth-edge', 'Edge', endpoint, 'netchaos_test_queue_depth', { criteria: '<', value: '10' }),
      promProbe('depth-during', 'OnChaos', endpoint, 'netchaos_test_queue_depth', { criteria: '<', value: '10' }, { run: { probePollingInterval: '200ms' } }),
    ]), EXPERIMENT, { log });
    assert.ok(r.ok);
    const never = new AbortController().signal;
    try {
      await r.probes.beforeChaos(never);
      await r.probes.chaosStarted({ durationMs: 60_000 });
      metrics.queueDepth = 40;
      await until('netchaos_test_queue_depth', (v) => v === 40, 'the chaos value');
      await sleep(600);
      metrics.queueDepth = 3;
      r.probes.chaosEnded();
      await until('netchaos_test_queue_depth', (v) => v === 3, 'the value after the chaos');
      await r.probes.afterChaos(never);
    } finally {
      await r.probes.close();
    }
    const final = r.probes.finalResult({ phase: 'Completed', verdict: 'Pass' });
    assert.deepEqual(final.probeStatuses.map((s) => `${s.name}:${s.status.verdict}`), ['depth-edge:Passed', 'depth-during:Failed']);
    assert.deepEqual([final.phase, final.verdict, final.probeSuccessPercentage], ['Completed_With_Probe_Failure', 'Fail', '50']);
  });
});
