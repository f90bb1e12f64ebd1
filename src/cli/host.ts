/**
 * The real host: every port of src/ports.ts, built once per run by the composition root (./main.ts).
 * The Kubernetes client is loaded by its first call only (src/kube/api.ts).
 */
import type { LogLevel } from '../model/spec.js';
import type { Deps, Signals } from '../ports.js';
import { realClock } from '../host/clock.js';
import { realExec } from '../host/exec.js';
import { realFiles } from '../host/files.js';
import { createLogger } from '../host/log.js';
import { realProcesses } from '../host/processes.js';
import { realSignals } from '../host/signals.js';
import { createKubeApi } from '../kube/api.js';
import { nsenterTc } from '../netns/tc.js';
import { nodeResolver } from '../resolve/dns.js';
import { execProber } from '../effect/probe.js';

/** The ports without the run's Stop (the command makes it from `signals` when it needs one). */
export type Host = Omit<Deps, 'stop'> & { readonly signals: Signals };

export interface HostOptions {
  readonly logLevel: LogLevel;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export type HostFactory = (o: HostOptions) => Host;

export const realHost: HostFactory = ({ logLevel, env }) => ({
  exec: realExec,
  clock: realClock,
  files: realFiles(env['PATH'] ?? ''),
  processes: realProcesses,
  log: createLogger(logLevel),
  kube: createKubeApi(env),
  resolver: nodeResolver(),
  tc: nsenterTc(realExec),
  prober: execProber(realExec),
  random: Math.random,
  signals: realSignals,
});
