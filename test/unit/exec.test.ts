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
