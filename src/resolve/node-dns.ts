/**
 * The real Resolver (node:dns), apart from src/resolve/dns.ts so that node:dns is loaded only by a run that
 * resolves a name: src/cli/host.ts imports this file on the resolver's first call (`plan` of addresses only
 * never loads it).
 */
import { promises as dnsPromises } from 'node:dns';
import type { DnsResolver, ResolvConf } from '../ports.js';
import { MAX_DNS_ATTEMPTS, MAX_DNS_TIMEOUT_S } from './dns.js';

/** The real Resolver: node:dns with the conf's timeout and attempts; `port` overrides 53 (for a test server on a high port). */
export function nodeResolver(port?: number): (conf: ResolvConf) => DnsResolver {
  return (conf) => {
    const r = new dnsPromises.Resolver({ timeout: Math.min(conf.timeoutS, MAX_DNS_TIMEOUT_S) * 1000, tries: Math.min(conf.attempts, MAX_DNS_ATTEMPTS) });
    return {
      cancel: () => { r.cancel(); },
      setServers: (servers) => { r.setServers(servers.map((s) => (port === undefined ? s : s.includes(':') ? `[${s}]:${port}` : `${s}:${port}`))); },
      resolve4: (h) => r.resolve4(h, { ttl: true }),
      resolve6: (h) => r.resolve6(h, { ttl: true }),
    };
  };
}
