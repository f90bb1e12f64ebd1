/**
 * Output of `deps` (the target's peers, named) and of the blast-radius section of `plan`: text tables and
 * JSON-ready objects. Pure.
 */
import { type BlastRadius, type BlastWarning, type ClientRow, type PeerRow, type Tally } from './blast.js';
import type { Connections } from './group.js';
import { stateCounts } from './group.js';
import { type PeerName, describeName } from './names.js';
import type { SocketState } from './procnet.js';

/** Rows listed in text before "… and N more" (JSON always has all of them). */
export const MAX_TEXT_ROWS = 100;
/** Warnings of one kind listed in text before "… and N more". */
export const MAX_TEXT_WARNINGS = 10;

interface DepsRow {
  readonly family: 4 | 6;
  readonly address: string;
  readonly name: PeerName | null;
  readonly sockets: number;
  readonly states: readonly { readonly state: SocketState; readonly count: number }[];
}

/** What `deps` reports (`--output json` prints it as is). */
export interface DepsReport {
  /** `pid 4242`, `netns /var/run/netns/app`, or the pod in Litmus mode. */
  readonly target: string;
  /** Where the sockets were read. */
  readonly source: string;
  /** Sockets read, listening ones included. */
  readonly sockets: number;
  readonly outbound: readonly (DepsRow & { readonly proto: 'tcp' | 'udp'; readonly port: number })[];
  readonly listeners: readonly { readonly proto: 'tcp' | 'udp'; readonly family: 4 | 6; readonly address: string; readonly port: number; readonly clients: readonly DepsRow[] }[];
  /** Lines of the socket tables that could not be read, lookups that failed. */
  readonly notes: readonly string[];
}

export function depsReport(input: {
  readonly target: string;
  readonly source: string;
  readonly connections: Connections;
  readonly names?: ReadonlyMap<string, PeerName>;
  readonly notes?: readonly string[];
}): DepsReport {
  const c = input.connections;
  const row = (family: 4 | 6, address: string, sockets: Parameters<typeof stateCounts>[0]): DepsRow =>
    ({ family, address, name: input.names?.get(address) ?? null, sockets: sockets.length, states: stateCounts(sockets) });
  return {
    target: input.target,
    source: input.source,
    sockets: c.total,
    outbound: c.outbound.map((g) => ({ proto: g.proto, port: g.port, ...row(g.family, g.address, g.sockets) })),
    listeners: c.listeners.map((l) => ({ proto: l.proto, family: l.family, address: l.address, port: l.port, clients: l.clients.map((x) => row(x.family, x.address, x.sockets)) })),
    notes: input.notes ?? [],
  };
}

/** Left-aligned columns; the last one is not padded. */
function table(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

const bracket = (family: 4 | 6, address: string): string => (family === 6 ? `[${address}]` : address);
const endpointText = (family: 4 | 6, address: string, port: number): string =>
  `${address === '0.0.0.0' || address === '::' ? '*' : bracket(family, address)}:${port}`;
const statesText = (states: readonly { state: string; count: number }[]): string =>
  states.map((s) => (states.length === 1 && s.count === 1 ? s.state : `${s.state} ${s.count}`)).join(', ');
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function more(n: number, what: string): string[] {
  return n > 0 ? [`  … and ${n} more ${what} (all of them in --output json)`] : [];
}

export function formatDeps(r: DepsReport): string {
  const out: string[] = [`Connections of ${r.target}: ${plural(r.sockets, 'socket')} (read from ${r.source})`, ''];
  out.push(`Peers the target connects to (${r.outbound.length}), by address and port:`);
  if (r.outbound.length === 0) out.push('  none');
  else {
    const shown = r.outbound.slice(0, MAX_TEXT_ROWS);
    out.push(...table(['PROTO', 'PEER', 'PORT', 'CONNS', 'STATES', 'NAME'],
      shown.map((g) => [g.proto, bracket(g.family, g.address), String(g.port), String(g.sockets), statesText(g.states), describeName(g.name ?? undefined)])));
    out.push(...more(r.outbound.length - shown.length, 'peers'));
  }
  out.push('', `Ports the target listens on (${r.listeners.length}), with the clients connected to them:`);
  if (r.listeners.length === 0) out.push('  none');
  else {
    const rows: string[][] = [];
    for (const l of r.listeners) {
      const local = endpointText(l.family, l.address, l.port);
      if (l.clients.length === 0) rows.push([l.proto, local, '-', '', '', '']);
      l.clients.forEach((c, i) => rows.push([i === 0 ? l.proto : '', i === 0 ? local : '', bracket(c.family, c.address), String(c.sockets), statesText(c.states), describeName(c.name ?? undefined)]));
    }
    out.push(...table(['PROTO', 'LOCAL', 'CLIENT', 'CONNS', 'STATES', 'NAME'], rows.slice(0, MAX_TEXT_ROWS)));
    out.push(...more(rows.length - MAX_TEXT_ROWS, 'rows'));
  }
  if (r.notes.length > 0) out.push('', 'Notes:', ...r.notes.map((n) => `  ${n}`));
  return out.join('\n') + '\n';
}

function verdictText(t: Tally, only: boolean): string {
  const v = t.verdict;
  const text = v.kind === 'faulted' ? `FAULTED band ${v.band}: ${v.fault} ← ${v.groups.join(', ')} (${v.match})` : `untouched (${v.why})`;
  return only ? text : `${text} ×${t.sockets}`;
}
const verdictsText = (row: PeerRow | ClientRow): string => row.verdicts.map((t) => verdictText(t, row.verdicts.length === 1)).join('; ');
const faulted = (row: PeerRow | ClientRow): boolean => row.verdicts.some((t) => t.verdict.kind === 'faulted');

const directionText = {
  egress: 'egress: the packets the target sends (the peer is their destination)',
  ingress: 'ingress: the packets the target receives (the peer is their source)',
  both: 'both directions (the peer is the destination of what the target sends and the source of what it receives)',
} as const;

/** The blast-radius section of `plan` (text): faulted connections first, then the untouched ones; then the warnings. */
export function formatBlastRadius(br: BlastRadius, context: { readonly target?: string; readonly source?: string } = {}): string {
  const t = br.totals;
  const out: string[] = [
    `Blast radius: the live connections of ${context.target ?? 'the target'}${context.source ? ` (read from ${context.source})` : ''}, ${directionText[br.direction]} on ${br.interface}`,
    `  ${t.faulted} of ${plural(t.sockets, 'connection')} will be faulted, ${t.untouched} untouched.`,
  ];
  const byVerdict = <T extends PeerRow | ClientRow>(rows: readonly T[]): T[] => [...rows.filter(faulted), ...rows.filter((r) => !faulted(r))];
  const outbound = byVerdict(br.outbound);
  out.push('', `Peers the target connects to (${outbound.length}):`);
  if (outbound.length === 0) out.push('  none');
  else {
    const shown = outbound.slice(0, MAX_TEXT_ROWS);
    out.push(...table(['PROTO', 'PEER', 'PORT', 'CONNS', 'NAME', 'VERDICT'],
      shown.map((g) => [g.proto, bracket(g.family, g.address), String(g.port), String(g.sockets), describeName(g.name), verdictsText(g)])));
    out.push(...more(outbound.length - shown.length, 'peers'));
  }
  const clients = br.listeners.flatMap((l) => l.clients.map((c) => ({ l, c })));
  if (clients.length > 0) {
    const sorted = [...clients.filter((x) => faulted(x.c)), ...clients.filter((x) => !faulted(x.c))];
    out.push('', `Clients connected to the target's listening ports (${clients.length}):`);
    out.push(...table(['PROTO', 'LOCAL', 'CLIENT', 'CONNS', 'NAME', 'VERDICT'],
      sorted.slice(0, MAX_TEXT_ROWS).map(({ l, c }) => [l.proto, endpointText(l.family, l.address, l.port), bracket(c.family, c.address), String(c.sockets), describeName(c.name), verdictsText(c)])));
    out.push(...more(sorted.length - MAX_TEXT_ROWS, 'clients'));
  }
  const warnings = formatWarnings(br.warnings);
  if (warnings.length > 0) out.push('', ...warnings);
  return out.join('\n') + '\n';
}

/** `!!! WARNING:` lines, at most MAX_TEXT_WARNINGS of each kind. */
export function formatWarnings(warnings: readonly BlastWarning[]): string[] {
  const out: string[] = [];
  for (const kind of ['cluster-ip', 'other-ports', 'no-connection'] as const) {
    const mine = warnings.filter((w) => w.kind === kind);
    for (const w of mine.slice(0, MAX_TEXT_WARNINGS)) out.push(`!!! WARNING: ${w.message}`);
    if (mine.length > MAX_TEXT_WARNINGS) out.push(`!!! … and ${mine.length - MAX_TEXT_WARNINGS} more like this (${mine.slice(MAX_TEXT_WARNINGS, MAX_TEXT_WARNINGS + 3).map((w) => w.subject).join(', ')}, …; all in --output json)`);
  }
  return out;
}
