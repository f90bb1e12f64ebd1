/**
 * Reverse DNS (PTR) of the target's peers through the target's own resolver (the nameservers of its
 * resolv.conf, as src/resolve/dns.ts does for forward lookups), with bounded time: one try per query, a
 * per-query timeout, a few queries at a time, an overall deadline after which the rest are "not answered",
 * and a cap on how many addresses are looked up at all.
 */
import { promises as dnsPromises } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { ResolvConf } from '../ports.js';

/** The part of node:dns's Resolver that reverse lookups use. */
export interface ReverseResolver {
  setServers(servers: readonly string[]): void;
  /** PTR records of the address (a query for its in-addr.arpa / ip6.arpa name). */
  reverse(address: string): Promise<string[]>;
  /** Stops the queries in flight (they reject with ECANCELLED). */
  cancel(): void;
}

/** The real one (nodeReverseResolver) is loaded on its first call: src/cli/host.ts. */
export type ReverseFactory = (opts: { readonly timeoutMs: number }) => ReverseResolver | Promise<ReverseResolver>;

/** The PTR query name of an address: `20.113.0.203.in-addr.arpa`, nibbles reversed under `ip6.arpa`. */
export function ptrName(address: string): string {
  const bytes = ipaddr.parse(address).toByteArray();
  if (bytes.length === 4) return `${bytes.reverse().join('.')}.in-addr.arpa`;
  return `${bytes.flatMap((b) => [b >> 4, b & 15]).reverse().map((n) => n.toString(16)).join('.')}.ip6.arpa`;
}

/**
 * node:dns, one try per query; `port` overrides 53 (a test server on a high port). It asks with resolvePtr,
 * not dns.reverse: reverse() (getHostByAddr) reports an unreachable server as ENOTFOUND, "no record".
 */
export function nodeReverseResolver(port?: number): (opts: { readonly timeoutMs: number }) => ReverseResolver {
  return ({ timeoutMs }) => {
    const r = new dnsPromises.Resolver({ timeout: timeoutMs, tries: 1 });
    return {
      setServers: (servers) => { r.setServers(servers.map((s) => (port === undefined ? s : s.includes(':') ? `[${s}]:${port}` : `${s}:${port}`))); },
      reverse: (address) => r.resolvePtr(ptrName(address)),
      cancel: () => { r.cancel(); },
    };
  };
}

export type ReverseAnswer =
  | { readonly kind: 'name'; readonly names: readonly string[] }
  /** The nameserver answered: no PTR record. */
  | { readonly kind: 'none' }
  /** No answer in time, or the server failed (SERVFAIL, REFUSED, unreachable). */
  | { readonly kind: 'failed'; readonly why: string }
  /** Over the cap or past the overall deadline: not asked. */
  | { readonly kind: 'skipped'; readonly why: string };

export interface ReverseOptions {
  /** Per query (one try, per nameserver). Default: the resolv.conf timeout, at most 2 s. */
  readonly queryTimeoutMs?: number;
  /** All lookups together. Default 3 s. */
  readonly deadlineMs?: number;
  /** At most this many addresses are looked up (the first ones given). Default 256. */
  readonly max?: number;
  /** Queries in flight at once. Default 16. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

const noRecord = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);
const codeOf = (e: unknown): string => (e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : '');

/** PTR names for each address (trailing dot removed), or why there is none. Never throws for a lookup. */
export async function reverseLookup(addresses: readonly string[], conf: Pick<ResolvConf, 'nameservers' | 'timeoutS'>, factory: ReverseFactory, opts: ReverseOptions = {}): Promise<Map<string, ReverseAnswer>> {
  const out = new Map<string, ReverseAnswer>();
  const unique = [...new Set(addresses)];
  if (conf.nameservers.length === 0) {
    for (const a of unique) out.set(a, { kind: 'skipped', why: 'no nameserver in resolv.conf' });
    return out;
  }
  const max = opts.max ?? 256;
  const queryTimeoutMs = opts.queryTimeoutMs ?? Math.min(conf.timeoutS * 1000, 2000);
  const resolver = await factory({ timeoutMs: queryTimeoutMs });
  resolver.setServers(conf.nameservers);
  const todo = unique.slice(0, max);
  for (const a of unique.slice(max)) out.set(a, { kind: 'skipped', why: `more than ${max} peers: not looked up` });

  let expired = false;
  const timer = setTimeout(() => { expired = true; resolver.cancel(); }, opts.deadlineMs ?? 3000);
  const onAbort = (): void => { expired = true; resolver.cancel(); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const address = todo[next++] ?? '';
      if (expired) { out.set(address, { kind: 'skipped', why: 'reverse DNS deadline passed' }); continue; }
      try {
        const names = (await resolver.reverse(address)).map((n) => n.replace(/\.$/, '').toLowerCase());
        out.set(address, names.length > 0 ? { kind: 'name', names } : { kind: 'none' });
      } catch (error) {
        const code = codeOf(error);
        if (noRecord.has(code)) out.set(address, { kind: 'none' });
        else if (code === 'ECANCELLED' || expired) out.set(address, { kind: 'skipped', why: 'reverse DNS deadline passed' });
        else out.set(address, { kind: 'failed', why: code === 'ETIMEOUT' ? `no answer within ${queryTimeoutMs} ms` : code || (error instanceof Error ? error.message : String(error)) });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, todo.length) }, worker));
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return out;
}
