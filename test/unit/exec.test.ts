import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realExec } from '../../src/host/exec.ts';
import { batchChunks } from '../../src/netns/tc.ts';

test('a tc batch is streamed to stdin in pieces: the process reads exactly the lines, each ending in a newline', async () => {
  const lines = Array.from({ length: 10_001 }, (_, i) => `filter add dev eth0 parent 4e43: protocol ip prio 1 handle 11:${(i % 256).toString(16)}:${i.toString(16)} u32 match ip dst 198.18.0.1/32`);
  const chunks = [...batchChunks(lines)];
  assert.ok(chunks.length > 1 && chunks.every((c) => c.length < 80_000), `${chunks.length} pieces, the largest ${Math.max(...chunks.map((c) => c.length))} chars`);
  const r = await realExec('sha256sum', [], { input: batchChunks(lines) });
  const expected = await realExec('sha256sum', [], { input: lines.join('\n') + '\n' });
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, expected.stdout);
  const wc = await realExec('wc', ['-l'], { input: batchChunks(lines) });
  assert.equal(wc.stdout.trim(), '10001');
  assert.deepEqual([...batchChunks([])], []);
});

test('realExec (execa): exit code and both outputs as they are; a missing binary, a timeout and a stop are errors that say so', async () => {
  assert.deepEqual(await realExec('sh', ['-c', 'echo out; echo err >&2; exit 3']), { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  await assert.rejects(realExec('netchaos-no-such-binary', []), /netchaos-no-such-binary was not found on PATH: is it installed\?/);
  const started = Date.now();
  await assert.rejects(realExec('sleep', ['30'], { timeoutMs: 200 }), /sleep 30 timed out after 200 ms/);
  const stop = new AbortController();
  setTimeout(() => { stop.abort(); }, 100);
  await assert.rejects(realExec('sleep', ['30'], { signal: stop.signal }), /sleep was stopped/);
  // Both ended long before the 30 s sleep (bound: far above the ~0.3 s they take, for a busy machine).
  assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
  // A process that stops reading its input early: its own result, no EPIPE thrown.
  const head = await realExec('head', ['-c', '5'], { input: (function* () { for (let i = 0; i < 100_000; i++) yield 'xxxxxxxxxx\n'; })() });
  assert.deepEqual(head, { exitCode: 0, stdout: 'xxxxx', stderr: '' });
});

test('once execa is loaded, the process is started by the call itself (before the caller\'s next step: the apply batch before the dead-man\'s spawn)', async () => {
  await realExec('true', []);
  const before = process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap').length;
  const running = realExec('sleep', ['0.2']);
  const now = process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap').length;
  assert.equal(now, before + 1, 'the child exists when realExec returns its promise');
  assert.equal((await running).exitCode, 0);
});
