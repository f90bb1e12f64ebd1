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
import { createKubeApi, kubeConfigFor } from '../kube/api.js';
import type { CatalogApi } from '../connections/catalog.js';
import type { ReverseFactory } from '../connections/reverse.js';
import { nsenterTc } from '../netns/tc.js';
import { execProber } from '../effect/probe.js';

/** How `deps` names peers: reverse DNS, and the Services and pods of a few namespaces. */
export interface PeerNaming {
  readonly reverse: ReverseFactory;
  /** Loads the Kubernetes client on its first call only. */
  readonly catalogApi: () => Promise<CatalogApi>;
}

/** The ports without the run's Stop (the command makes it from `signals` when it needs one); without `peerNaming`, `deps` names peers from what it has (no DNS, no API). */
export type Host = Omit<Deps, 'stop'> & { readonly signals: Signals; readonly peerNaming?: PeerNaming };

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
  // node:dns (and ipaddr.js for reverse names) loaded by a run that resolves something, on the first call.
  resolver: async (conf) => (await import('../resolve/node-dns.js')).nodeResolver()(conf),
  tc: nsenterTc(realExec),
  prober: execProber(realExec),
  random: Math.random,
  signals: realSignals,
  peerNaming: {
    reverse: async (opts) => (await import('../connections/reverse.js')).nodeReverseResolver()(opts),
    catalogApi: async () => {
      const [{ createCatalogApi }, kc] = await Promise.all([import('../connections/kube-client.js'), kubeConfigFor(env)]);
      return createCatalogApi(kc);
    },
  },
});
