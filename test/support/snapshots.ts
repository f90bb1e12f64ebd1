/** Snapshot files of rendered output (test/unit/snapshots/): the tc batch and the plan text are reviewed as diffs. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const snapshotDir = new URL('../unit/snapshots/', import.meta.url);

/** Compares text with test/unit/snapshots/<name>; UPDATE_SNAPSHOTS=1 rewrites it. */
export function matchSnapshot(name: string, actual: string): void {
  const file = new URL(name, snapshotDir);
  if (process.env['UPDATE_SNAPSHOTS'] === '1' || !existsSync(file)) {
    if (process.env['CI'] && !existsSync(file)) assert.fail(`snapshot ${name} is missing (run UPDATE_SNAPSHOTS=1 npm run test:unit and review it)`);
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `snapshot ${name} differs (UPDATE_SNAPSHOTS=1 to accept)`);
}
