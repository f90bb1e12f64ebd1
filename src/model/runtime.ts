/** Container runtimes: which ones, their default sockets, and a container ID as Kubernetes or a runtime CLI prints it. */
import { UsageError } from './errors.js';

export const runtimes = ['crio', 'containerd', 'docker'] as const;
export type RuntimeName = (typeof runtimes)[number];

export interface RuntimeOptions {
  /** 'auto': from the containerID prefix (Kubernetes) or the socket that exists (local). */
  readonly runtime: RuntimeName | 'auto';
  /** Undefined: the runtime's default socket. */
  readonly socketPath: string | undefined;
}

export const defaultSockets: Readonly<Record<RuntimeName, string>> = {
  crio: '/var/run/crio/crio.sock',
  containerd: '/run/containerd/containerd.sock',
  docker: '/var/run/docker.sock',
};

/** A container ID as Kubernetes reports it (`containerd://<hex>`) or as the runtime CLI prints it. */
export interface ContainerRef {
  readonly id: string;
  /** From the `<runtime>://` prefix, when there was one. */
  readonly runtime: RuntimeName | undefined;
}

const prefixes: Readonly<Record<string, RuntimeName>> = { 'cri-o': 'crio', crio: 'crio', containerd: 'containerd', docker: 'docker' };

export function parseContainerId(variable: string, raw: string): ContainerRef {
  const text = raw.trim();
  const m = /^(?:([a-z-]+):\/\/)?([0-9a-f]{12,64})$/.exec(text);
  const prefix = m?.[1];
  const runtime = prefix === undefined ? undefined : prefixes[prefix];
  if (!m?.[2] || (prefix !== undefined && runtime === undefined)) {
    throw new UsageError(variable, `expected a container ID (12-64 hex digits, optionally with cri-o://, containerd:// or docker://), got ${JSON.stringify(raw)}`);
  }
  return { id: m[2], runtime };
}
