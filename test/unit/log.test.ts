/** The JSON-lines log (src/host/log.ts): the fields, their order and the levels users' log tooling reads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createLogger } from '../../src/host/log.ts';

const T = Date.parse('2026-12-01T03:04:05.678Z');
const capture = (level: 'debug' | 'info' | 'warn' | 'error' = 'info') => {
  const out: string[] = [];
  return { log: createLogger(level, (l) => { out.push(l); }, () => T), out };
};

test('a line: level, time (ISO), bindings, fields, msg; one line each, newline-terminated', () => {
  const { log, out } = capture();
  log.info({ event: 'injected', entries: 2, skip: undefined, fn: () => 1, nested: { a: [1, 'x'] } }, 'tree "in" place');
  log.warn('left alone: a\nb');
  assert.deepEqual(out, [
    '{"level":"info","time":"2026-12-01T03:04:05.678Z","event":"injected","entries":2,"nested":{"a":[1,"x"]},"msg":"tree \\"in\\" place"}\n',
    '{"level":"warn","time":"2026-12-01T03:04:05.678Z","msg":"left alone: a\\nb"}\n',
  ]);
  for (const l of out) assert.equal(l.indexOf('\n'), l.length - 1);
});

test('fields without a message: no msg key; an err that is undefined is left out', () => {
  const { log, out } = capture();
  log.error({ err: undefined, count: Number.NaN });
  assert.equal(out[0], '{"level":"error","time":"2026-12-01T03:04:05.678Z","count":null}\n');
});

test('child bindings come after time and before the line\'s own fields; a child of a child keeps both', () => {
  const { log, out } = capture();
  const c = log.child({ experiment: 'e1', node: undefined }).child({ target: 'default/app' });
  c.info({ event: 'preflight-ok', target: 'override' }, 'ok');
  assert.equal(out[0], '{"level":"info","time":"2026-12-01T03:04:05.678Z","experiment":"e1","target":"default/app","event":"preflight-ok","target":"override","msg":"ok"}\n');
  assert.equal((JSON.parse(out[0] ?? '') as { target: string }).target, 'override');
});

test('lines below the level are dropped; each level keeps its own and those above', () => {
  for (const [level, expected] of [['debug', 4], ['info', 3], ['warn', 2], ['error', 1]] as const) {
    const { log, out } = capture(level);
    log.debug('d'); log.info('i'); log.warn('w'); log.error('e');
    assert.equal(out.length, expected, level);
  }
});

test('a circular value is written as text rather than losing the line', () => {
  const { log, out } = capture();
  const o: Record<string, unknown> = {};
  o['self'] = o;
  log.info({ o, n: 10n }, 'm');
  assert.equal(out[0], '{"level":"info","time":"2026-12-01T03:04:05.678Z","o":"[Object]","n":10,"msg":"m"}\n');
});

test('the real writer puts whole lines on stderr, synchronously, before process.exit', () => {
  const code = "import { createLogger } from './src/host/log.ts'; const l = createLogger('info'); for (let i = 0; i < 2000; i++) l.info({ i }, 'x'.repeat(100)); process.exit(7);";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(r.status, 7, r.stderr.slice(0, 500));
  const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { i: number; level: string });
  assert.equal(lines.length, 2000);
  assert.equal(lines[1999]?.i, 1999);
  assert.equal(lines[0]?.level, 'info');
});
