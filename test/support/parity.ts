/**
 * One set of command lines run two ways, through the whole CLI (dist/cli-main.cjs) and through a smaller bundle of
 * part of it (the lean revert, the inject bundle): each must show a user the same (exit code, output, log lines, what
 * it did to the fake kernel). The cases' own file says how a command line runs each way (`through`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

/** A command line, its environment, and how the fake host is set up first (named by its `what`: see `named`). */
export type ParityCase<S> = [argv: string[], env: Record<string, string>, setup: S];

/** A set-up with the name a test title shows. */
export const named = <S extends object>(what: string, setup: S): S => Object.assign(setup, { what });

/**
 * One test per case (`through('full', …)` deep-equals `through(part, …)`), and one that the cases reach each exit
 * code in `codes` through the part (and no other): a set of cases that never fails a run proves little.
 */
export function parityTests<S, P extends string>(
  cases: readonly ParityCase<S>[],
  through: (path: 'full' | P, argv: string[], env: Record<string, string>, setup: S) => Promise<{ code: number }>,
  part: P,
  coverage: { title: string; codes: readonly number[] },
): void {
  for (const [argv, env, setup] of cases) {
    test(`${argv.join(' ')}${Object.keys(env).length ? ` with ${JSON.stringify(env)}` : ''} (${String(Reflect.get(setup as object, 'what'))})`, async () => {
      const full = await through('full', argv, env, setup);
      const other = await through(part, argv, env, setup);
      assert.deepEqual(other, full);
    });
  }
  test(coverage.title, async () => {
    const codes = new Set<number>();
    for (const [argv, env, setup] of cases) codes.add((await through(part, argv, env, setup)).code);
    assert.deepEqual([...codes].sort((a, b) => a - b), [...coverage.codes]);
  });
}
