/** The package version, from package.json next to dist/ (the bundle) or src/ (this file under src/cli/). */
import { readFileSync } from 'node:fs';
import { stringField, tryParseJson } from '../model/json.js';

export function version(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const v = stringField(tryParseJson(readFileSync(new URL(path, import.meta.url), 'utf8')), 'version');
      if (v !== undefined) return v;
    } catch {
      // not there: the next place
    }
  }
  return 'unknown';
}
