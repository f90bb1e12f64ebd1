/**
 * The one way raw inputs (a flag over its ENV variable over the table's default) become typed values:
 * `Reader` collects every UsageError so the user sees all of them in one run; `done()` throws them together.
 */
import { UsageError, UsageErrors } from '../model/errors.js';
import { assertPrintable } from './values.js';
import { type VariableName, variable } from './vars.js';

/** A raw value and the name the user gave it under (`--latency` or `NETWORK_LATENCY`). */
export interface RawValue {
  readonly value: string;
  readonly label: string;
}

export interface RawInput {
  /** The raw value for a variable (already merged: flag over ENV), or undefined when unset/empty. */
  readonly get: (name: VariableName) => RawValue | undefined;
}

export type Parse<T> = (label: string, text: string) => T;

export class Reader {
  readonly problems: UsageError[] = [];

  constructor(private readonly input: RawInput) {}

  /** Runs `fn`; a UsageError is collected (undefined is returned), anything else is thrown. */
  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (error instanceof UsageError) {
        this.problems.push(error);
        return undefined;
      }
      throw error;
    }
  }

  /** The value given (checked for characters that could split a tc batch line), or the table's default. */
  raw(name: VariableName): RawValue {
    const given = this.input.get(name);
    if (given !== undefined && given.value !== '') {
      this.attempt(() => { assertPrintable(given.label, variable(name).semicolonList ? given.value.replaceAll(';', ',') : given.value); });
      return given;
    }
    return { value: variable(name).default, label: name };
  }

  /** The name the value was given under: its flag, its ENV variable (or the variable, when it was not given). */
  labelOf(name: VariableName): string {
    const given = this.input.get(name);
    return given !== undefined && given.value !== '' ? given.label : name;
  }

  value<T>(name: VariableName, parse: Parse<T>): T | undefined {
    const r = this.raw(name);
    return this.attempt(() => parse(r.label, r.value));
  }

  /** Like value(), but an empty value is undefined rather than parsed. */
  optional<T>(name: VariableName, parse: Parse<T>): T | undefined {
    return this.value(name, (l, t) => (t.trim() === '' ? undefined : parse(l, t)));
  }

  problem(label: string, message: string): void {
    this.problems.push(new UsageError(label, message));
  }

  /** Throws every problem found, at once. */
  done(): void {
    if (this.problems.length > 0) throw new UsageErrors(this.problems);
  }
}

/** A value that can only be missing after a usage error, which done() has thrown already. */
export function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('unreachable: a value failed without a usage error');
  return value;
}

/**
 * Reads one variable leniently: its parsed value, or undefined when it is empty or bad (for reporting
 * bad input, where the rest of the ENV may not parse).
 */
export function lenient<T>(input: RawInput, name: VariableName, parse: Parse<T>): T | undefined {
  const given = input.get(name);
  const text = given !== undefined && given.value !== '' ? given.value : variable(name).default;
  try {
    return text.trim() === '' ? undefined : parse(name, text);
  } catch {
    return undefined;
  }
}

/** One variable alone (for the commands that take only a few: revert, sweep); its problem as UsageErrors (exit 2). */
export function readVariable<T>(input: RawInput, name: VariableName, parse: Parse<T>): T {
  const r = new Reader(input);
  const value = r.value(name, parse);
  r.done();
  return defined(value);
}
