/** What every command gets from the composition root: its options, the raw inputs, and the host, built once. */
import { readFileSync } from 'node:fs';
import type { LogLevel } from '../model/spec.js';
import { Stop } from '../model/stop.js';
import type { Deps } from '../ports.js';
import type { RawValue } from '../config/reader.js';
import { type Variable, type VariableName, flagName, optionKey, variables } from '../config/vars.js';
import { stopOnSignals } from '../host/signals.js';
import type { Host, HostFactory } from './host.js';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * Resolves once what stdout was given has been handed to the OS (at once when nothing is queued): a command that
   * writes megabytes waits on it between pieces, so that a slow reader (a pipe) does not make it hold them all.
   */
  readonly drained?: () => Promise<void>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads the files the input names (DESTINATION_IPS_FILE); default: this machine's. */
  readonly readFile?: (path: string) => string;
}

/** commander's parsed options of one command. */
export type Options = Record<string, unknown>;

/** A command: its context in, its exit code out. */
export type Action = (ctx: Context) => Promise<number>;

export class Context {
  /** The host, once built (the composition root logs a final error through it). */
  host: Host | undefined;
  /** Whether a final error goes to the log too (not for `plan` and `deadman-unit`, which print what they find). */
  logsErrors = true;

  constructor(readonly io: Io, readonly opts: Options, private readonly makeHost: HostFactory) {}

  /** The raw value of a variable: its flag over its ENV variable; an empty ENV value counts as unset (Litmus passes ""). */
  readonly get = (name: VariableName): RawValue | undefined => {
    const v: Variable | undefined = variables.find((x) => x.env === name);
    if (!v) return undefined;
    const flagValue = this.opts[optionKey(v)];
    if (flagValue !== undefined) {
      const value = Array.isArray(flagValue) ? flagValue.map(String).join(' ') : typeof flagValue === 'string' ? flagValue : 'true';
      return { value, label: flagName(v) };
    }
    const envValue = this.io.env[v.env];
    return envValue === undefined || envValue === '' ? undefined : { value: envValue, label: v.env };
  };

  /** Only the flags, not the ENV (for `sweep`, whose --interface has no variable behind it). */
  readonly flagsOnly = (name: VariableName): RawValue | undefined => {
    const v: Variable | undefined = variables.find((x) => x.env === name);
    const value = v ? this.opts[optionKey(v)] : undefined;
    return v && typeof value === 'string' ? { value, label: flagName(v) } : undefined;
  };

  readonly readFile = (path: string): string => (this.io.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path);

  /** A string option of the command (not a variable), or undefined. */
  option(key: string): string | undefined {
    const v = this.opts[key];
    return typeof v === 'string' ? v : undefined;
  }

  /** Builds the host adapters, once per command (after the input has been read, so its log level is known). */
  build(logLevel: LogLevel): Host {
    this.host ??= this.makeHost({ logLevel, env: this.io.env });
    return this.host;
  }

  /** The deps of a command that leaves SIGTERM and SIGINT alone (they end it at once: it changes nothing, or it is the dead-man). */
  depsWithoutSignals(host: Host): Deps {
    return { ...host, stop: new Stop() };
  }

  /**
   * Runs `fn` with the run's deps: the host and the run's Stop, which SIGTERM and SIGINT stop until `fn` ends
   * (meanwhile they no longer end the process: the run reverts first).
   */
  async withStop<T>(host: Host, fn: (deps: Deps, stop: Stop) => Promise<T>): Promise<T> {
    const { stop, dispose } = stopOnSignals(host.signals);
    try {
      return await fn({ ...host, stop }, stop);
    } finally {
      dispose();
    }
  }
}
