// The entry (src/cli.ts) and its standard output as a user's shell sees it: a pager that reads late gets all of a
// large plan, and a reader that goes away (`| head`) ends the writing without a stack trace.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

describe('netchaos plan on a pipe', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netchaos-cli-output-'));
  const file = path.join(dir, 'destinations.txt');
  // 5,000 addresses that merge into nothing (every other one): ~2 MB of JSON, far more than a pipe holds (64 KB).
  writeFileSync(file, Array.from({ length: 5000 }, (_, k) => `198.18.${(2 * k) >> 8}.${(2 * k) & 255}`).join('\n'));
  const start = () => spawn(process.execPath, ['--import', 'tsx', CLI, 'plan', '--destination-ips-file', file, '--latency', '100', '--output', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });

  test('a reader that starts late (a pager) still gets the whole plan: the process does not exit before it is written', async () => {
    const child = start();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.pause();
    // Until the plan has been written as far as the pipe takes it, and 1.5 s more (the entry's linger is 1 s).
    await new Promise((resolve) => { child.stdout.once('readable', resolve); });
    await sleep(1500);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stdout.resume();
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    const plan = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { plan: { entries: unknown[]; apply: unknown[] } };
    assert.equal(plan.plan.entries.length, 5000);
    // root, netem, the level-1 table, 256 level-2 tables (5,000 > HASH2_MIN_ENTRIES), 256 bucket links, the root link, the entries.
    assert.equal(plan.plan.apply.length, 2 + 1 + 256 + 256 + 1 + 5000);
  });

  test('a reader that goes away after the first bytes (`| head`): exit 0, no stack trace', async () => {
    const child = start();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    await new Promise((resolve) => { child.stdout.once('data', resolve); });
    child.stdout.destroy();
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.doesNotMatch(stderr, /EPIPE|Unhandled|at /);
    assert.equal(code, 0, stderr);
  });

  test.after(() => { rmSync(dir, { recursive: true, force: true }); });
});
