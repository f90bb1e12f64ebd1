/**
 * httpProbe against a real HTTP server (node:http) in this process's network namespace, as litmus-go runs
 * it (pkg/probe/httpprobe.go): status code criteria, probeTimeout as the client timeout, POST bodies,
 * redirects followed as Go's http.Client does, insecureSkipVerify, failure vs error (pkg/utils/utils.go).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { prepareProbes, type ProbeSet } from '../../src/probes/index.ts';
import { memoryLogger } from '../support/fake-ports.ts';
import { closedPort, engine, EXPERIMENT, httpProbe, type Json, Peer } from './probe-fixtures.ts';

const peer = new Peer();
before(async () => { await peer.start(); });
after(async () => { await peer.stop(); });

function probesOf(list: Json[]): ProbeSet {
  const { log } = memoryLogger();
  const r = prepareProbes(engine(list), EXPERIMENT, { log });
  if (!r.ok) assert.fail(r.message);
  return r.probes;
}

/** One SOT probe, run; its status. */
async function sot(probe: Json) {
  const probes = probesOf([probe]);
  const phase = await probes.beforeChaos(new AbortController().signal);
  await probes.close();
  return { phase, status: probes.statuses()[0]!.status };
}

describe('probeTimeout bounds the request (http.Client.Timeout)', () => {
  test('an endpoint slower than probeTimeout fails, faster passes (server delay 1.2 s; timeouts 100 ms and 3 s)', async () => {
    peer.delayMs = 1200;
    try {
      const t0 = Date.now();
      const slow = await sot(httpProbe('tight', 'SOT', peer.url('/slow'), { run: { probeTimeout: '100ms' } }));
      const failedAfter = Date.now() - t0;
      assert.equal(slow.status.verdict, 'Failed');
      assert.match(slow.status.description ?? '', /no answer from http:\/\/127\.0\.0\.1:\d+\/slow within probeTimeout 100ms \(probe failed due to timeout\)/);
      assert.ok(failedAfter < 800, `the request was abandoned at the timeout, not when the server answered (${failedAfter} ms)`);
      const ok = await sot(httpProbe('loose', 'SOT', peer.url('/slow'), { run: { probeTimeout: '3s' } }));
      assert.equal(ok.status.verdict, 'Passed');
    } finally {
      peer.delayMs = 0;
    }
  });
});

describe('the response code and the criteria', () => {
  test('== 200 passes on 200 with litmus-go\'s description; fails on 503 saying both codes', async () => {
    const ok = await sot(httpProbe('a', 'SOT', peer.url('/ok')));
    assert.deepEqual(ok.status, { verdict: 'Passed', description: `The URL ${peer.url('/ok')} did respond with correct status code. Actual code: '200'. Expected code: == '200'` });
    peer.status = 503;
    try {
      const down = await sot(httpProbe('a', 'SOT', peer.url('/ok')));
      assert.equal(down.status.verdict, 'Failed');
      assert.match(down.status.description ?? '', /answered 503\. Actual value: 503\. Expected value: equal to 200/);
      assert.deepEqual(down.phase, { kind: 'continue' }, 'a failed probe without stopOnFailure does not stop the run');
      const between = await sot(httpProbe('a', 'SOT', peer.url('/ok'), { criteria: 'between', code: '500,599' }));
      assert.equal(between.status.verdict, 'Passed');
    } finally {
      peer.status = 200;
    }
  });
  test('POST sends the body with its content type; its own responseCode is compared', async () => {
    peer.routes.set('/orders', (_req, res, body) => { res.writeHead(body === '{"id":7}' ? 201 : 400); res.end(); });
    const r = await sot(httpProbe('post', 'SOT', peer.url('/orders'), { post: { body: '{"id":7}', contentType: 'application/json', criteria: '==', responseCode: '201' } }));
    assert.equal(r.status.verdict, 'Passed');
    const hit = peer.hitsOn('/orders').at(-1)!;
    assert.equal(hit.method, 'POST');
    assert.equal(hit.headers['content-type'], 'application/json');
  });
});

describe('redirects, as Go\'s http.Client follows them', () => {
  test('a GET follows 302 to the final answer; a POST after 303 becomes a GET without body; 307 repeats the POST', async () => {
    peer.routes.set('/moved', (_req, res) => { res.writeHead(302, { location: '/ok' }); res.end(); });
    peer.routes.set('/see-other', (_req, res) => { res.writeHead(303, { location: '/ok' }); res.end(); });
    peer.routes.set('/temp', (_req, res) => { res.writeHead(307, { location: '/orders' }); res.end(); });
    const before = peer.hits.length;
    assert.equal((await sot(httpProbe('r', 'SOT', peer.url('/moved')))).status.verdict, 'Passed');
    assert.deepEqual(peer.hits.slice(before).map((h) => `${h.method} ${h.path}`), ['GET /moved', 'GET /ok']);
    const b2 = peer.hits.length;
    await sot(httpProbe('r', 'SOT', peer.url('/see-other'), { post: { body: 'x', criteria: '==', responseCode: '200' } }));
    assert.deepEqual(peer.hits.slice(b2).map((h) => `${h.method} ${h.path} ${JSON.stringify(h.body)}`), ['POST /see-other "x"', 'GET /ok ""']);
    const b3 = peer.hits.length;
    const r = await sot(httpProbe('r', 'SOT', peer.url('/temp'), { post: { body: '{"id":7}', criteria: '==', responseCode: '201' } }));
    assert.equal(r.status.verdict, 'Passed');
    assert.deepEqual(peer.hits.slice(b3).map((h) => `${h.method} ${h.path} ${h.body}`), ['POST /temp {"id":7}', 'POST /orders {"id":7}']);
  });
  test('a 3xx without Location is the answer (Go does not follow it)', async () => {
    peer.routes.set('/nowhere', (_req, res) => { res.writeHead(302); res.end(); });
    const r = await sot(httpProbe('r', 'SOT', peer.url('/nowhere'), { code: '302' }));
    assert.equal(r.status.verdict, 'Passed');
  });
  test('a redirect loop stops after 10 redirects and is a probe *error* (not a network failure): the phase ends Error', async () => {
    peer.routes.set('/loop', (_req, res) => { res.writeHead(302, { location: '/loop' }); res.end(); });
    const r = await sot(httpProbe('loop', 'SOT', peer.url('/loop')));
    assert.deepEqual(r.phase, { kind: 'error', probe: 'loop', errorCode: 'HTTP_PROBE_ERROR', reason: `GET ${peer.url('/loop')}: stopped after 10 redirects` });
    assert.equal(r.status.verdict, 'Awaited', 'an errored probe is not judged (N/A at the end)');
    assert.equal(peer.hitsOn('/loop').length, 11);
  });
});

describe('failure vs error (pkg/utils/utils.go HttpTimeout / IsConnectionError)', () => {
  test('connection refused is a probe failure (the run goes on)', async () => {
    const port = await closedPort();
    const r = await sot(httpProbe('refused', 'SOT', `http://127.0.0.1:${port}/`));
    assert.equal(r.status.verdict, 'Failed');
    assert.match(r.status.description ?? '', /ECONNREFUSED/);
    assert.deepEqual(r.phase, { kind: 'continue' });
  });
  test('a name that does not resolve is a probe failure (Go: *net.OpError wrapping the DNS error)', async () => {
    const r = await sot(httpProbe('dns', 'SOT', 'http://does-not-exist.invalid/'));
    assert.equal(r.status.verdict, 'Failed');
    assert.match(r.status.description ?? '', /ENOTFOUND|EAI_AGAIN/);
  });
});

const noOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0 ? 'openssl is not installed here (CI installs it)' : false;

describe('https and insecureSkipVerify (a self-signed certificate made by openssl for this test)', { skip: noOpenssl }, () => {
  let server: HttpsServer | undefined;
  let url = '';
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netchaos-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => { res.writeHead(200); res.end('tls'); });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => { server?.close(() => { resolve(); }); });
  });
  test('a certificate that does not verify is a probe error, as in litmus-go; insecureSkipVerify: true passes', async () => {
    const strict = await sot(httpProbe('tls', 'SOT', url));
    assert.equal(strict.phase.kind, 'error');
    assert.match(strict.phase.kind === 'error' ? strict.phase.reason : '', /self[- ]signed certificate|DEPTH_ZERO_SELF_SIGNED_CERT/i);
    const insecure = await sot(httpProbe('tls', 'SOT', url, { insecure: true }));
    assert.equal(insecure.status.verdict, 'Passed');
  });
});
