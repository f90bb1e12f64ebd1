/**
 * Sockets → conversations: the peers the target connects to (grouped by the peer's address and port), the
 * ports it listens on with the clients connected to them, and the rest. Pure.
 *
 * A socket is inbound when it sits on a port the target listens on (a TCP LISTEN socket, or a bound
 * unconnected UDP socket, on the same address or a wildcard that covers it), or is a half-open request
 * (SYN-RECV); every other connected socket is outbound, and its peer's port is the service port.
 */
import ipaddr from 'ipaddr.js';
import type { IpFamily } from '../model/addresses.js';
import { type Proto, type Socket, type SocketState, isUnspecified } from './procnet.js';

/** The target's connections to one peer address and port (TCP or UDP). */
export interface PeerGroup {
  readonly proto: Proto;
  readonly family: IpFamily;
  readonly address: string;
  readonly port: number;
  readonly sockets: readonly Socket[];
}

/** One client address connected to one of the target's listening ports. */
export interface ClientGroup {
  readonly family: IpFamily;
  readonly address: string;
  readonly sockets: readonly Socket[];
}

/** A port the target listens on (TCP LISTEN, or an unconnected bound UDP socket). */
export interface Listener {
  readonly proto: Proto;
  readonly family: IpFamily;
  /** `0.0.0.0` / `::` for every address. */
  readonly address: string;
  readonly port: number;
  /** An IPv6 wildcard socket, which also takes IPv4 clients unless it is v6only (not visible in /proc). */
  readonly v6Socket: boolean;
  readonly clients: readonly ClientGroup[];
}

export interface Connections {
  readonly outbound: readonly PeerGroup[];
  readonly listeners: readonly Listener[];
  /** The target's own (non-wildcard) addresses seen on its sockets: traffic to them stays on loopback. */
  readonly ownAddresses: readonly string[];
  /** How many sockets were read in all (listening ones included). */
  readonly total: number;
}

/**
 * Code-unit order of two ASCII names (tcp/udp, the socket states): the order localeCompare gives them, without
 * its first call, which loads ICU's collator (~10-120 ms on the host, more than the rest of the section).
 */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const requestStates: ReadonlySet<SocketState> = new Set(['SYN-RECV', 'NEW-SYN-RECV']);
export const isListening = (s: Socket): boolean => s.state === 'LISTEN' || (s.proto === 'udp' && s.state === 'UNCONN');

/** Numeric order for addresses: IPv4 before IPv6, then by bytes. `cache` keeps each address parsed once. */
export function compareAddresses(a: string, b: string, cache?: Map<string, number[]>): number {
  const bytes = (address: string): number[] => {
    let v = cache?.get(address);
    if (v === undefined) {
      v = ipaddr.parse(address).toByteArray();
      cache?.set(address, v);
    }
    return v;
  };
  const x = bytes(a);
  const y = bytes(b);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The listener an inbound socket belongs to: same address first, then a wildcard of its family, then an IPv6 wildcard. */
function listenerFor(s: Socket, listeners: readonly { l: Omit<Listener, 'clients'>; clients: Map<string, Socket[]> }[]) {
  const onPort = listeners.filter((x) => x.l.proto === s.proto && x.l.port === s.local.port);
  return onPort.find((x) => x.l.address === s.local.address)
    ?? onPort.find((x) => isUnspecified(x.l.address) && x.l.family === s.family)
    ?? onPort.find((x) => x.l.address === '::' && x.l.v6Socket)
    ?? (requestStates.has(s.state) ? onPort[0] : undefined);
}

export function groupSockets(sockets: readonly Socket[]): Connections {
  const listeners = sockets.filter(isListening).map((s) => ({
    l: { proto: s.proto, family: s.family, address: s.local.address, port: s.local.port, v6Socket: s.v6Socket },
    clients: new Map<string, Socket[]>(),
  }));
  const outbound = new Map<string, { proto: Proto; family: IpFamily; address: string; port: number; sockets: Socket[] }>();
  const own = new Set<string>();
  for (const s of sockets) {
    if (!isUnspecified(s.local.address)) own.add(s.local.address);
    if (isListening(s)) continue;
    const listener = listenerFor(s, listeners);
    if (listener) {
      const list = listener.clients.get(s.remote.address) ?? [];
      list.push(s);
      listener.clients.set(s.remote.address, list);
      continue;
    }
    const key = `${s.proto}|${s.remote.address}|${s.remote.port}`;
    const g = outbound.get(key) ?? { proto: s.proto, family: s.family, address: s.remote.address, port: s.remote.port, sockets: [] };
    g.sockets.push(s);
    outbound.set(key, g);
  }
  const parsed = new Map<string, number[]>();
  const byAddress = (a: string, b: string): number => compareAddresses(a, b, parsed);
  const byEndpoint = (a: { proto: Proto; address: string; port: number }, b: typeof a): number =>
    byName(a.proto, b.proto) || byAddress(a.address, b.address) || a.port - b.port;
  const byPort = (a: { proto: Proto; address: string; port: number }, b: typeof a): number =>
    byName(a.proto, b.proto) || a.port - b.port || byAddress(a.address, b.address);
  // Two sockets on one port (e.g. 0.0.0.0:53 and [::]:53, or SO_REUSEPORT) are listed once each.
  return {
    outbound: [...outbound.values()].sort(byEndpoint),
    listeners: listeners.map((x) => ({
      ...x.l,
      clients: [...x.clients.entries()].map(([address, list]) => ({ family: list[0]?.family ?? x.l.family, address, sockets: list }))
        .sort((a, b) => byAddress(a.address, b.address)),
    })).sort(byPort),
    ownAddresses: [...own].sort(byAddress),
    total: sockets.length,
  };
}

/** `ESTAB 2, TIME-WAIT 1`: how many sockets are in each state, most frequent first. */
export function stateCounts(sockets: readonly Socket[]): { state: SocketState; count: number }[] {
  const counts = new Map<SocketState, number>();
  for (const s of sockets) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  return [...counts.entries()].map(([state, count]) => ({ state, count })).sort((a, b) => b.count - a.count || byName(a.state, b.state));
}

/** 127.0.0.0/8 or ::1 (addresses here are on-the-wire: a v4-mapped loopback is already 127.x). */
export const isLoopback = (address: string): boolean => address.startsWith('127.') || address === '::1';
