/** DEPENDENCY_REFRESH in Litmus mode: the bounded history (status.netchaosRefresh), its Events, and the helper's result carrying it. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HISTORY_LIMIT, RefreshHistory, STALE_EVENT_EVERY_MS } from '../../src/litmus/refresh-report.ts';
import { BLAST_BUDGET, RESULT_LIMIT, decodeResult, encodeResult, type HelperResult } from '../../src/litmus/helper-job.ts';

const moved = (i: number) => ({ kind: 'dependency-changed' as const, source: 'service shop/api', added: [`10.244.1.${i}|8080`], removed: [`10.244.0.${i}|8080`], details: [] });
const stale = { kind: 'dependency-stale' as const, source: 'host db.example.com', error: 'queryA ESERVFAIL db.example.com', retryS: 3 };

describe('RefreshHistory', () => {
  test(`keeps the last ${HISTORY_LIMIT} entries and counts all of them`, () => {
    const h = new RefreshHistory(3);
    for (let i = 0; i < 70; i++) h.record('shop/frontend-1', moved(i), 1_000 * i);
    const s = h.status();
    assert.deepEqual([s.intervalS, s.changes, s.history.length, s.dropped], [3, 70, HISTORY_LIMIT, 70 - HISTORY_LIMIT]);
    assert.deepEqual(s.history[0]?.added, ['10.244.1.20|8080'], 'the oldest are dropped first');
    assert.equal(s.history.at(-1)?.at, new Date(69_000).toISOString());
    assert.ok(Buffer.byteLength(JSON.stringify(s)) < 16_000, 'bounded in size too');
  });

  test('a failing source: a Warning Event the first time, then at most one a minute saying how many it stands for', () => {
    const h = new RefreshHistory(3);
    const sent = [0, 3_000, 6_000, STALE_EVENT_EVERY_MS + 1_000, STALE_EVENT_EVERY_MS + 4_000].map((t) => h.record('shop/frontend-1', stale, t));
    assert.deepEqual(sent.map((n) => n?.type), ['Warning', undefined, undefined, 'Warning', undefined]);
    assert.match(sent[3]?.message ?? '', /did not resolve \(queryA ESERVFAIL db\.example\.com\): keeping its last addresses, asking again in 3s \(2 more failure\(s\) since the last such Event\)$/);
    assert.equal(h.record('shop/frontend-2', stale, 5_000)?.type, 'Warning', 'per target');
    assert.equal(h.status().stale, 6);
    assert.match(h.summary(), /0 move\(s\) applied, 6 failed lookup\(s\)/);
  });

  test('a refused diff: Warning, with whether the filters are as before', () => {
    const h = new RefreshHistory(3);
    const kept = h.record('shop/a', { kind: 'refresh-failed', changes: 'service shop/api: +10.0.0.1', error: 'tc rejected line 2', kept: true }, 0);
    const lost = h.record('shop/a', { kind: 'refresh-failed', changes: 'service shop/api: +10.0.0.1', error: 'tc rejected line ?', kept: false }, 0);
    assert.match(kept?.message ?? '', /NOT applied .* the filters stay as they were/);
    assert.match(lost?.message ?? '', /unknown state: the run ends/);
    assert.equal(h.record('shop/a', { kind: 'refresh-applied', added: 1, deleted: 1, tables: [], applyMs: 2, batch: [] }, 0), undefined);
    assert.deepEqual([h.status().failed, h.size], [2, 2]);
  });

  test('merge: a helper\'s counters and entries (with its node), in time order', () => {
    const h = new RefreshHistory(3);
    h.record('shop/a', moved(1), 5_000);
    const other = new RefreshHistory(3);
    other.record('shop/b', moved(2), 1_000);
    other.record('shop/b', stale, 9_000);
    h.merge('node-b', other.status());
    const s = h.status();
    assert.deepEqual(s.history.map((e) => `${e.target}@${e.node ?? 'here'}:${e.kind}`), ['shop/b@node-b:changed', 'shop/a@here:changed', 'shop/b@node-b:stale']);
    assert.deepEqual([s.changes, s.stale], [2, 1]);
  });
});

describe('the helper result with refresh and effects', () => {
  test(`stays within ${RESULT_LIMIT} bytes: the oldest refresh entries go first (counted), the counters stay whole`, () => {
    const h = new RefreshHistory(3);
    for (let i = 0; i < HISTORY_LIMIT; i++) h.record(`shop/frontend-with-a-long-name-${i}`, moved(i), i);
    const refresh = h.wire();
    const result: HelperResult = {
      version: 1, node: 'node-b', outcome: 'completed', exitCode: 0, targets: [{ pod: 'shop/frontend-1', status: 'reverted' }],
      refresh, effects: [{ pod: 'shop/frontend-1', ok: true, summary: 'effect (egress): 10.244.1.5 +100 ms (expected +100); within tolerance'.repeat(20) }],
    };
    const text = encodeResult(result);
    assert.ok(Buffer.byteLength(text) <= RESULT_LIMIT, `${Buffer.byteLength(text)} bytes`);
    const back = decodeResult(text);
    if (typeof back === 'string') assert.fail(back);
    assert.equal(back.refresh?.changes, HISTORY_LIMIT);
    assert.equal((back.refresh?.history.length ?? 0) + (back.refresh?.dropped ?? 0), HISTORY_LIMIT);
    assert.ok((back.refresh?.history.length ?? 0) > 5, 'the newest entries are kept');
    assert.equal(back.refresh?.history.at(-1)?.target, `shop/frontend-with-a-long-name-${HISTORY_LIMIT - 1}`);
    assert.ok((back.effects?.[0]?.summary.length ?? 0) <= 410, 'the effect summary is cut');
  });

  test('a long refresh history gives way to the blast radius: the blast radius keeps its budget, the oldest entries go', () => {
    const h = new RefreshHistory(3);
    for (let i = 0; i < HISTORY_LIMIT; i++) h.record(`shop/frontend-with-a-long-name-${i}`, moved(i), i);
    const connections = Array.from({ length: 30 }, (_v, k) => `tcp 10.244.1.${k}:8080 ×1: ${k < 5 ? 'FAULTED band 4 +100ms (DESTINATION_IPS)' : 'untouched (no filter matches)'}`);
    const blast = { 'shop/frontend-1': { totals: { connections: 30, faulted: 5, untouched: 25 }, connections, warnings: [], notes: [] } };
    assert.ok(Buffer.byteLength(JSON.stringify(blast)) <= BLAST_BUDGET, 'the blast radius fits its own budget as it is');
    const result: HelperResult = { version: 1, node: 'node-b', outcome: 'completed', exitCode: 0, targets: [{ pod: 'shop/frontend-1', status: 'reverted' }], refresh: h.wire(), blast };
    const text = encodeResult(result);
    assert.ok(Buffer.byteLength(text) <= RESULT_LIMIT, `${Buffer.byteLength(text)} bytes`);
    const back = decodeResult(text);
    if (typeof back === 'string') assert.fail(back);
    assert.deepEqual(back.blast, blast, 'no row of the blast radius was dropped for the refresh history');
    assert.equal(back.refresh?.changes, HISTORY_LIMIT);
    assert.ok((back.refresh?.dropped ?? 0) > 0, 'the history gave way');
    assert.equal((back.refresh?.history.length ?? 0) + (back.refresh?.dropped ?? 0), HISTORY_LIMIT);
    assert.equal(back.refresh?.history.at(-1)?.target, `shop/frontend-with-a-long-name-${HISTORY_LIMIT - 1}`, 'the newest entry is kept');
  });

  test('a version-1 result without refresh/effects (an older helper image) is still read', () => {
    const back = decodeResult(JSON.stringify({ version: 1, node: 'n', outcome: 'completed', exitCode: 0, targets: [] }));
    assert.ok(typeof back !== 'string');
    assert.equal(back.refresh, undefined);
  });
});
