/** Run ids (src/host/processes.ts): the owner in a tree's marker must not repeat between runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRunId } from '../../src/host/processes.ts';

test('a run id is 16 hex digits (64 random bits), new each time', () => {
  const ids = Array.from({ length: 2000 }, newRunId);
  for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(new Set(ids).size, ids.length);
  const digits = new Set(ids.join(''));
  assert.equal(digits.size, 16, 'every hex digit occurs');
});
