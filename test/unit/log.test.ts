import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/**
 * The real logger in a process of its own (it writes to fd 2): the lines a user reads on stderr, and pino (with what
 * it loads: worker_threads, streams) loaded by the first line logged only, not by createLogger: `plan` of a list logs
 * nothing.
 */
const script = `
import { createRequire } from 'node:module';
import { createLogger } from './src/host/log.ts';
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/pino/'));
const log = createLogger('info');
const child = log.child({ target: 'pod-a' });
process.stdout.write(JSON.stringify({ beforeFirstLine: loaded() }) + '\\n');
log.debug('not at info');
process.stdout.write(JSON.stringify({ afterDebug: loaded() }) + '\\n');
child.info({ band: 4 }, 'injected');
log.warn('plain message');
process.stdout.write(JSON.stringify({ afterInfo: loaded() }) + '\\n');
`;

test('the log: pino is loaded by the first line written, and the lines are as before (level, time, fields, child fields, msg)', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown), [{ beforeFirstLine: false }, { afterDebug: true }, { afterInfo: true }]);
  const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2, r.stderr);
  for (const l of lines) assert.match(String(l['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(lines.map((l) => Object.fromEntries(Object.entries(l).filter(([k]) => k !== 'time'))), [
    { level: 'info', target: 'pod-a', band: 4, msg: 'injected' },
    { level: 'warn', msg: 'plain message' },
  ]);
});
