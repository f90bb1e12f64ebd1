/**
 * The blast radius: each live connection of the target, named, and what the plan does to it — faulted (which
 * band, which fault, which entry) or untouched (and why) — plus warnings about named dependencies the target
 * does not talk to and Service ClusterIPs the filters miss. Pure.
 *
 * One verdict covers both directions: the egress tree matches the peer as destination, the ingress (ifb)
 * tree the same entries with the peer as source (src/tc/classify.ts), so a connection's packets get the same
 * band both ways; `direction` says which ways the plan has a tree for.
 */
import ipaddr from 'ipaddr.js';
import type { Direction, Spec } from '../model/spec.js';
import { type Cidr, formatCidr } from '../model/addresses.js';
import type { Resolved } from '../model/destinations.js';
import { type Classification, type Flow, makeClassifier } from '../tc/classify.js';
import type { Entry, Plan } from '../tc/plan.js';
import type { Catalog, ServiceInfo } from './catalog.js';
import { type Connections, isLoopback, stateCounts } from './group.js';
import type { PeerName } from './names.js';
import type { Socket, SocketState } from './procnet.js';

/** A dependency as the user named it, with the addresses and ports it stands for. */
export interface Dependency {
  /** `DESTINATION_IPS 192.0.2.11`, `FAULTS #2 198.51.100.0/24`, `host api`, `service shop/b`. */
  readonly label: string;
  /** Any of these (cidr undefined: any address); empty ports: any port. */
  readonly items: readonly { readonly cidr: Cidr | undefined; readonly ports: readonly number[] }[];
  /** A Service named in DESTINATION_SERVICES. */
  readonly service?: { readonly namespace: string; readonly name: string };
}

const shortCidr = (c: Cidr): string => ((c.family === 4 && c.prefix === 32) || (c.family === 6 && c.prefix === 128) ? c.address : formatCidr(c));
const portsLabel = (ports: readonly number[]): string => (ports.length > 0 ? `|${ports.join('|')}` : '');

/**
 * The dependencies the user named: every DESTINATION_IPS/FAULTS address, every group that only names ports,
 * and every named dependency the run resolved (hosts, pods, Services; `resolved` from discover()).
 */
export function namedDependencies(spec: Pick<Spec, 'groups'>, resolved: readonly Resolved[] = []): Dependency[] {
  const out: Dependency[] = [];
  for (const g of spec.groups) {
    const groupPorts = g.destinationPorts.mode === 'only' ? g.destinationPorts.ports : [];
    for (const d of g.destinations) {
      const ports = d.ports.length > 0 ? d.ports : groupPorts;
      out.push({ label: `${g.name} ${shortCidr(d.cidr)}${portsLabel(d.ports)}`, items: [{ cidr: d.cidr, ports }] });
    }
    if (g.destinations.length === 0 && g.named === undefined && groupPorts.length > 0) {
      out.push({ label: `any address, port${groupPorts.length > 1 ? 's' : ''} ${groupPorts.join(',')} (${g.name})`, items: [{ cidr: undefined, ports: groupPorts }] });
    }
  }
  for (const r of resolved) {
    const m = /^service ([^/]+)\/(.+)$/.exec(r.source);
    out.push({
      label: r.source,
      items: r.items.map((i) => ({ cidr: i.cidr, ports: i.ports })),
      ...(m?.[1] && m[2] ? { service: { namespace: m[1], name: m[2] } } : {}),
    });
  }
  return out;
}

export type Verdict =
  | {
    readonly kind: 'faulted';
    readonly band: number;
    /** netem in words, e.g. `+100ms, 5% loss`. */
    readonly fault: string;
    /** The groups that share the band (`DESTINATION_IPS`, `FAULTS #2`). */
    readonly groups: readonly string[];
    /** The filter entry that matched, e.g. `192.0.2.11/32 dport 8080`. */
    readonly match: string;
  }
  | { readonly kind: 'untouched'; readonly why: 'no filter matches' | 'port exclusion' | 'loopback' };

export interface Tally {
  readonly verdict: Verdict;
  readonly sockets: number;
}

interface Row {
  readonly family: 4 | 6;
  readonly address: string;
  readonly name: PeerName | undefined;
  readonly sockets: number;
  readonly states: readonly { readonly state: SocketState; readonly count: number }[];
  readonly verdicts: readonly Tally[];
}

/** The target's connections to one peer address and port. */
export interface PeerRow extends Row {
  readonly proto: 'tcp' | 'udp';
  readonly port: number;
}

/** Clients from one address on one of the target's listening ports. */
export type ClientRow = Row;

export interface ListenerRow {
  readonly proto: 'tcp' | 'udp';
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  readonly clients: readonly ClientRow[];
}

export interface BlastRadius {
  readonly interface: string;
  readonly direction: Direction;
  readonly outbound: readonly PeerRow[];
  readonly listeners: readonly ListenerRow[];
  /** Connected sockets (listening ones are not counted). */
  readonly totals: { readonly sockets: number; readonly faulted: number; readonly untouched: number };
  readonly warnings: readonly BlastWarning[];
}

export interface BlastInput {
  readonly plan: Plan;
  readonly connections: Connections;
  readonly names?: ReadonlyMap<string, PeerName>;
  readonly dependencies?: readonly Dependency[];
  /** Services with their ClusterIPs and endpoints (naming's catalog), for the ClusterIP warning. */
  readonly catalog?: Catalog;
}

export function describeEntry(e: Entry): string {
  const where = e.cidr ? formatCidr(e.cidr) : e.family === 'all' ? 'every packet' : `any IPv${e.family}`;
  const ports = [e.dport !== undefined ? `dport ${e.dport}` : '', e.sport !== undefined ? `sport ${e.sport}` : ''].filter(Boolean).join(' ');
  return ports ? `${where} ${ports}` : where;
}

function toVerdict(c: Classification): Verdict {
  if (c.kind === 'fault') return { kind: 'faulted', band: c.band.band, fault: c.band.description, groups: c.band.groups, match: describeEntry(c.entry) };
  return { kind: 'untouched', why: c.kind === 'bypass' ? 'port exclusion' : 'no filter matches' };
}

const verdictKey = (v: Verdict): string => (v.kind === 'faulted' ? `f|${v.band}|${v.match}` : `u|${v.why}`);

/** An address as a number, for prefix comparisons. */
function addressValue(address: string): bigint {
  return ipaddr.parse(address).toByteArray().reduce((n, b) => (n << 8n) + BigInt(b), 0n);
}

/** Tests addresses against a cidr (undefined: any address of either family). */
function cidrTest(c: Cidr | undefined): (address: string, family: 4 | 6) => boolean {
  if (c === undefined) return () => true;
  const shift = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  const network = addressValue(c.address) >> shift;
  return (address, family) => family === c.family && addressValue(address) >> shift === network;
}

export function blastRadius(input: BlastInput): BlastRadius {
  const { plan, connections } = input;
  const classify = makeClassifier(plan);
  const own = new Set(connections.ownAddresses);
  // The target's own port matters only to entries with a source port: without them, one answer per peer and port.
  const ownPortMatters = plan.entries.some((e) => e.sport !== undefined);
  const verdicts = new Map<string, Verdict>();
  const verdictOf = (s: Socket): Verdict => {
    const key = `${s.remote.address}|${s.remote.port}|${ownPortMatters ? s.local.port : ''}`;
    let v = verdicts.get(key);
    if (v === undefined) {
      v = isLoopback(s.remote.address) || own.has(s.remote.address)
        ? { kind: 'untouched', why: 'loopback' }
        : toVerdict(classify({ family: s.family, peer: s.remote.address, peerPort: s.remote.port, ownPort: s.local.port }));
      verdicts.set(key, v);
    }
    return v;
  };
  const tally = (sockets: readonly Socket[]): Tally[] => {
    const counts = new Map<string, { verdict: Verdict; sockets: number }>();
    for (const s of sockets) {
      const v = verdictOf(s);
      const slot = counts.get(verdictKey(v)) ?? { verdict: v, sockets: 0 };
      slot.sockets++;
      counts.set(verdictKey(v), slot);
    }
    return [...counts.values()].sort((a, b) => (a.verdict.kind === b.verdict.kind ? b.sockets - a.sockets : a.verdict.kind === 'faulted' ? -1 : 1));
  };
  const row = (family: 4 | 6, address: string, sockets: readonly Socket[]): Row =>
    ({ family, address, name: input.names?.get(address), sockets: sockets.length, states: stateCounts(sockets), verdicts: tally(sockets) });

  const outbound: PeerRow[] = connections.outbound.map((g) => ({ proto: g.proto, port: g.port, ...row(g.family, g.address, g.sockets) }));
  const listeners: ListenerRow[] = connections.listeners.map((l) => ({
    proto: l.proto, family: l.family, address: l.address, port: l.port,
    clients: l.clients.map((c) => row(c.family, c.address, c.sockets)),
  }));
  const rows = [...outbound, ...listeners.flatMap((l) => l.clients)];
  const count = (kind: Verdict['kind']): number => rows.reduce((n, r) => n + r.verdicts.filter((t) => t.verdict.kind === kind).reduce((m, t) => m + t.sockets, 0), 0);
  const totals = { sockets: rows.reduce((n, r) => n + r.sockets, 0), faulted: count('faulted'), untouched: count('untouched') };

  const warnings = [
    ...clusterIpWarnings(input, outbound, connections, classify),
    ...dependencyWarnings(input, connections),
  ];
  return { interface: plan.interface, direction: plan.direction ?? 'egress', outbound, listeners, totals, warnings };
}

/** Every connected socket with its peer (outbound and inbound). */
function connected(c: Connections): Socket[] {
  return [...c.outbound.flatMap((g) => g.sockets), ...c.listeners.flatMap((l) => l.clients.flatMap((x) => x.sockets))];
}

/** Why a warning was given; `message` says it in words. */
export interface BlastWarning {
  readonly kind: 'no-connection' | 'other-ports' | 'cluster-ip';
  /** The dependency's label (no-connection, other-ports) or the Service (`shop/b`, cluster-ip). */
  readonly subject: string;
  readonly message: string;
}

function dependencyWarnings(input: BlastInput, c: Connections): BlastWarning[] {
  const sockets = connected(c);
  // Sockets by peer address: a /32 or /128 looks its address up, a network scans the distinct peers once.
  const byPeer = new Map<string, Socket[]>();
  for (const s of sockets) {
    const list = byPeer.get(s.remote.address);
    if (list) list.push(s);
    else byPeer.set(s.remote.address, [s]);
  }
  const peers = [...byPeer.entries()].map(([address, list]) => ({ address, family: list[0]?.family ?? 4, list }));
  const socketsIn = (cidr: Cidr | undefined): Socket[] => {
    if (cidr && cidr.prefix === (cidr.family === 4 ? 32 : 128)) return byPeer.get(cidr.address) ?? [];
    const test = cidrTest(cidr);
    return peers.filter((p) => test(p.address, p.family)).flatMap((p) => p.list);
  };
  const loopback = sockets.filter((s) => isLoopback(s.remote.address) && !c.listeners.some((l) => l.port === s.local.port && l.proto === s.proto));
  const proxyHint = loopback.length > 0
    ? ` The target has ${loopback.length} connection${loopback.length > 1 ? 's' : ''} over loopback (to ${[...new Set(loopback.map((s) => `${s.remote.address}:${s.remote.port}`))].slice(0, 3).join(', ')}): a sidecar proxy would explain it.`
    : '';
  const out: BlastWarning[] = [];
  for (const dep of input.dependencies ?? []) {
    const found = dep.items.map((i) => ({ i, list: socketsIn(i.cidr) }));
    if (found.some(({ i, list }) => list.some((s) => i.ports.length === 0 || i.ports.includes(s.remote.port)))) continue;
    const toAddress = found.flatMap((f) => f.list);
    if (toAddress.length > 0) {
      const seen = [...new Set(toAddress.map((s) => s.remote.port))].sort((a, b) => a - b);
      const given = [...new Set(dep.items.flatMap((i) => i.ports))];
      out.push({ kind: 'other-ports', subject: dep.label, message: `${dep.label}: the target talks to it only on port${seen.length > 1 ? 's' : ''} ${seen.join(', ')}, not on the port${given.length > 1 ? 's' : ''} given (${given.join(', ')}): those connections are not faulted.` });
      continue;
    }
    out.push({ kind: 'no-connection', subject: dep.label, message: `${dep.label}: no live connection between the target and this dependency right now: a typo, a dependency not in use at the moment, or one reached through a proxy or sidecar (the target's packets then go to the proxy, not to this address).${proxyHint}` });
  }
  return out;
}

/** Services whose ClusterIP is this address (catalog), or the Service a reverse DNS name says it is. */
function servicesAt(address: string, input: BlastInput): { namespace: string; name: string; info: ServiceInfo | undefined }[] {
  const found: { namespace: string; name: string; info: ServiceInfo | undefined }[] = (input.catalog?.services ?? [])
    .filter((s) => s.clusterIPs.includes(address)).map((s) => ({ namespace: s.namespace, name: s.name, info: s }));
  const n = input.names?.get(address);
  if (found.length === 0 && n?.kind === 'service' && n.via !== 'endpoint' && n.pod === undefined) found.push({ namespace: n.namespace, name: n.name, info: undefined });
  return found;
}

function clusterIpWarnings(input: BlastInput, outbound: readonly PeerRow[], c: Connections, classify: (f: Flow) => Classification): BlastWarning[] {
  const out: BlastWarning[] = [];
  for (const row of outbound) {
    const untouched = row.verdicts.filter((t) => t.verdict.kind === 'untouched' && t.verdict.why !== 'loopback').reduce((n, t) => n + t.sockets, 0);
    if (untouched === 0) continue;
    const ownPorts = c.outbound.find((g) => g.proto === row.proto && g.address === row.address && g.port === row.port)?.sockets.map((s) => s.local.port) ?? [0];
    for (const svc of servicesAt(row.address, input)) {
      const where = `live traffic to service ${svc.namespace}/${svc.name} at its ClusterIP ${row.family === 6 ? `[${row.address}]` : row.address}:${row.port} (${untouched} connection${untouched > 1 ? 's' : ''})`;
      // A Service named in DESTINATION_SERVICES has its ClusterIP in the filters: a miss is a port the
      // dependency warnings already report.
      if (input.dependencies?.some((d) => d.service?.namespace === svc.namespace && d.service.name === svc.name)) continue;
      const hit = (svc.info?.endpoints ?? []).flatMap((e) => (e.ports.length > 0 ? e.ports : [row.port]).map((port) => ({ e, port })))
        .find(({ e, port }) => ownPorts.some((own) => classify({ family: e.address.includes(':') ? 6 : 4, peer: e.address, peerPort: port, ownPort: own }).kind === 'fault'));
      if (!hit) continue;
      out.push({ kind: 'cluster-ip', subject: `${svc.namespace}/${svc.name}`, message: `${where} is not faulted, but the filters fault its endpoint ${hit.e.address}:${hit.port}${hit.e.pod ? ` (pod ${hit.e.pod})` : ''}: the target's packets carry the ClusterIP, which kube-proxy translates to an endpoint only after they have left the target's interface. Name the Service in DESTINATION_SERVICES (it covers the ClusterIP and the endpoints) or add its ClusterIP to DESTINATION_IPS.` });
    }
  }
  return out;
}
