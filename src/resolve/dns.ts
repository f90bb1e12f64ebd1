/**
 * Hostnames → addresses, the way the target pod resolves them: its /etc/resolv.conf (nameservers,
 * search list, ndots), queried for A and AAAA with node:dns. An unresolvable name is an error naming it.
 */
import { RuntimeError, messageOf } from '../model/errors.js';
import { type DestinationItem, parseHostAddress } from '../model/addresses.js';
import type { HostDestination } from '../model/destinations.js';
import { untilStopped } from '../model/stop.js';
import type { DnsRecord, DnsResolver, ResolvConf, Resolver } from '../ports.js';

/**
 * What a target's resolv.conf may ask of us, at most: its `timeout:30 attempts:5` would let one lookup of a
 * dead nameserver hold a run (and its SIGTERM) for minutes. glibc's own defaults (5 s, 2 attempts) are the cap.
 */
export const MAX_DNS_TIMEOUT_S = 5;
export const MAX_DNS_ATTEMPTS = 2;
/** One name (A and AAAA together, all nameservers), whatever the conf says: then it counts as not answered. */
export const DNS_LOOKUP_DEADLINE_MS = 10_000;

/** Parses resolv.conf(5) as glibc does: last `search`/`domain` wins, options ndots/timeout/attempts (capped: MAX_DNS_*). */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  let ndots = 1;
  let timeoutS = 5;
  let attempts = 2;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/[#;].*/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) nameservers.push(rest[0]);
    else if (key === 'search') search = rest.filter((d) => d !== '');
    else if (key === 'domain' && rest[0]) search = [rest[0]];
    else if (key === 'options') {
      for (const opt of rest) {
        const [name, value] = opt.split(':');
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) continue;
        if (name === 'ndots') ndots = Math.min(n, 15);
        else if (name === 'timeout') timeoutS = Math.min(Math.max(n, 1), MAX_DNS_TIMEOUT_S);
        else if (name === 'attempts') attempts = Math.min(Math.max(n, 1), MAX_DNS_ATTEMPTS);
      }
    }
  }
  return { nameservers, search: search.map((d) => d.replace(/\.$/, '')), ndots, timeoutS, attempts };
}

/** The names a resolver tries for `host`, in order (search list before or after the name itself, by ndots). */
export function candidates(host: string, conf: Pick<ResolvConf, 'search' | 'ndots'>): string[] {
  if (host.endsWith('.')) return [host.slice(0, -1)];
  const dots = host.split('.').length - 1;
  const searched = conf.search.map((d) => `${host}.${d}`);
  return dots >= conf.ndots ? [host, ...searched] : [...searched, host];
}

const notFound = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);
const codeOf = (e: unknown): string => (e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : '');

async function lookup(fn: () => Promise<DnsRecord[]>): Promise<DnsRecord[]> {
  try {
    return await fn();
  } catch (error) {
    if (notFound.has(codeOf(error))) return [];
    throw error;
  }
}

export interface HostResolution {
  readonly host: string;
  /** The name that answered (after the search list). */
  readonly name: string;
  readonly addresses: readonly string[];
  readonly items: readonly DestinationItem[];
  /** The shortest TTL of the records found, in seconds (when to ask again). */
  readonly ttlS: number;
  /** UNRESOLVED_HOSTS=skip: why this host was left out (no addresses, no items). */
  readonly skipped?: string;
}

export interface HostQuery {
  readonly conf: ResolvConf;
  /** The resolv.conf's path, for messages. */
  readonly where: string;
  readonly signal?: AbortSignal | undefined;
  /** One name's deadline (default DNS_LOOKUP_DEADLINE_MS). */
  readonly deadlineMs?: number | undefined;
  /**
   * UNRESOLVED_HOSTS=skip (litmus-go's behaviour, chaoslib/litmus/network-chaos/lib/network-chaos.go
   * getIpsForTargetHosts): a host with no A or AAAA record is left out (`skipped`), an error only when none
   * resolves. A nameserver that does not answer is an error either way: that is not a wrong name.
   */
  readonly skipUnresolved?: boolean | undefined;
}

/** Both lookups of one name, within `ms` and while `signal` has not aborted; the resolver's queries are cancelled otherwise. */
async function bounded<T>(work: Promise<T>, resolver: DnsResolver, ms: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  const deadline = AbortSignal.timeout(ms);
  const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
  try {
    return await untilStopped(work, both, what);
  } catch (error) {
    if (both.aborted) resolver.cancel?.();
    if (!signal?.aborted && deadline.aborted) throw Object.assign(new Error(`no answer within ${ms / 1000} s`), { code: 'ETIMEOUT' });
    throw error;
  }
}

/** Resolves each host with the conf; throws a RuntimeError naming the first host that does not resolve. */
export async function resolveHosts(hosts: readonly HostDestination[], makeResolver: Resolver, q: HostQuery): Promise<HostResolution[]> {
  const { conf, where } = q;
  if (hosts.length === 0) return [];
  if (conf.nameservers.length === 0) throw new RuntimeError(`${where} lists no nameserver: cannot resolve DESTINATION_HOSTS (${hosts.map((h) => h.host).join(', ')})`);
  const resolver = await makeResolver(conf);
  resolver.setServers(conf.nameservers);
  const out: HostResolution[] = [];
  for (const h of hosts) {
    const tried = candidates(h.host, conf);
    let found: HostResolution | undefined;
    for (const name of tried) {
      let records: DnsRecord[];
      try {
        const [v4, v6] = await bounded(Promise.all([lookup(() => resolver.resolve4(name)), lookup(() => resolver.resolve6(name))]), resolver,
          q.deadlineMs ?? DNS_LOOKUP_DEADLINE_MS, q.signal, `resolving ${name}`);
        records = [...v4, ...v6];
      } catch (error) {
        if (q.signal?.aborted) throw error;
        throw new RuntimeError(`DESTINATION_HOSTS ${h.host}: the nameserver(s) ${conf.nameservers.join(', ')} from ${where} did not answer for ${name} (${codeOf(error) || messageOf(error)}). Check that the target's DNS is reachable from the target's network namespace.`, { cause: error });
      }
      if (records.length > 0) {
        const unique = [...new Set(records.map((r) => r.address))];
        const ttlS = Math.min(...records.map((r) => r.ttl));
        found = { host: h.host, name, addresses: unique, ttlS, items: unique.map((a) => ({ cidr: parseHostAddress(`DESTINATION_HOSTS ${h.host}`, a), ports: h.ports })) };
        break;
      }
    }
    const why = `DESTINATION_HOSTS ${h.host} does not resolve (no A or AAAA record) with the target's resolver ${conf.nameservers.join(', ')} from ${where} (tried ${tried.join(', ')})`;
    if (!found && !q.skipUnresolved) throw new RuntimeError(`${why}. Fix the name (or set UNRESOLVED_HOSTS=skip to leave such names out, as litmus-go does); nothing was injected.`);
    out.push(found ?? { host: h.host, name: h.host, addresses: [], items: [], ttlS: 0, skipped: `${why}: left out (UNRESOLVED_HOSTS=skip)` });
  }
  if (out.every((x) => x.skipped !== undefined)) {
    throw new RuntimeError(`none of DESTINATION_HOSTS resolves with the target's resolver ${conf.nameservers.join(', ')} from ${where} (UNRESOLVED_HOSTS=skip leaves out some, not all): ${hosts.map((h) => h.host).join(', ')}. Fix the names; nothing was injected.`);
  }
  return out;
}
