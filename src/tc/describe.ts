/** Human-readable text for a Plan (what `netchaos plan` prints). Pure. */
import { formatCidr } from '../model/addresses.js';
import type { Direction } from '../model/spec.js';
import type { Entry, Plan } from './plan.js';

const MAX_LISTED = 50;

function entryText(e: Entry): string {
  const where = e.cidr ? formatCidr(e.cidr) : e.family === 'all' ? 'every packet' : `any IPv${e.family}`;
  const ports = [e.dport !== undefined ? `dport ${e.dport}` : '', e.sport !== undefined ? `sport ${e.sport}` : ''].filter(Boolean).join(' ');
  const to = e.action === 'bypass' ? 'untouched (port exclusion)' : `band ${e.band}`;
  return `${where}${ports ? ` ${ports}` : ''} → ${to}`;
}

const directionText = {
  egress: (dev: string) => `egress: packets ${dev} sends to the dependencies (matched on destination address/port)`,
  ingress: (dev: string, ifb: string) => `ingress: packets arriving on ${dev} from the dependencies (matched on source address/port), redirected through ${ifb}`,
  both: (dev: string, ifb: string) => `both: packets ${dev} sends to the dependencies (destination) and packets arriving from them (source, through ${ifb})`,
} as const;

/** The plan's direction (plans without one are egress: plan() leaves it out for egress). */
export const planDirection = (p: Pick<Plan, 'direction'>): Direction => p.direction ?? 'egress';

export function describePlan(p: Plan, context: { target?: string; root?: string } = {}): string {
  return [...describePlanPieces(p, context)].join('');
}

/** Lines of the tc batch per piece of describePlanPieces: ~65 KB of text, below V8's large objects (128 KB). */
const BATCH_LINES_PER_PIECE = 500;

/**
 * describePlan's text in pieces, in order, each made when it is taken: the batch of a 10,000-destination plan is
 * 1.3 MB of text, and as one string (then the whole text joined again, then its bytes for stdout) each copy was that
 * much fresh memory, every page of it touched for the first time. A piece of 500 lines is garbage once written, and
 * the next one reuses its memory.
 */
export function* describePlanPieces(p: Plan, context: { target?: string; root?: string } = {}): Generator<string, void, undefined> {
  const out: string[] = [];
  for (const w of p.warnings) out.push(`!!! WARNING: ${w}`, '');
  out.push(`Interface ${p.interface}${context.target ? ` in ${context.target}` : ''}`);
  if (context.root) out.push(`Current root qdisc: ${context.root}`);
  const direction = planDirection(p);
  out.push(`Direction: ${directionText[direction](p.interface, p.ifb ?? '?')}`);
  const where = { egress: `on ${p.interface}`, ingress: `on ${p.ifb ?? '?'}`, both: `on ${p.interface} (egress) and on ${p.ifb ?? '?'} (ingress)` }[direction];
  out.push(`Root qdisc: prio ${p.rootHandle} with ${3 + p.bands.length} bands (1-3: normal traffic by the default priomap)${direction === 'egress' ? '' : ` ${where}`}`);
  out.push('', 'Fault bands:');
  for (const b of p.bands) out.push(`  band ${b.band} (${b.classid}, netem ${b.netemHandle}): ${b.description}  ← ${b.groups.join(', ')}`);
  out.push('', `Destinations (${p.entries.length} filter entries, most specific first):`);
  const groups = [...new Set(p.entries.map((e) => e.group))];
  for (const g of groups) {
    const mine = p.entries.filter((e) => e.group === g);
    out.push(`  ${g}:`);
    for (const e of mine.slice(0, MAX_LISTED)) out.push(`    ${entryText(e)}`);
    if (mine.length > MAX_LISTED) out.push(`    … and ${mine.length - MAX_LISTED} more (all of them are in the batch below and in --output json)`);
  }
  if (p.tables.length > 0) {
    out.push('', 'u32 tables:');
    for (const t of p.tables) {
      if (t.level === 2) continue;
      if (t.level !== 1) {
        out.push(`  IPv${t.family} ${t.kind} table ${t.htid} (divisor ${t.divisor}): ${t.nodes} entries`);
        continue;
      }
      // Two levels: one line for the 256 level-2 tables, not one each.
      const level2 = p.tables.filter((x) => x.family === t.family && x.level === 2);
      const nodes = level2.reduce((n, x) => n + x.nodes, 0);
      const busiest = level2.reduce((n, x) => Math.max(n, x.nodes), 0);
      out.push(`  IPv${t.family} two-level hash: table ${t.htid} (divisor ${t.divisor}, key: last address byte) links each bucket to its own table, ` +
        `${level2[0]?.htid ?? '?'}-${level2[level2.length - 1]?.htid ?? '?'} (${level2.length} tables, divisor 256, key: the byte before): ${nodes} entries, at most ${busiest} in one table`);
    }
  }
  if (p.links !== undefined && p.links.length > 0) {
    out.push('', `ip batch (${p.links.length} lines, one \`ip -batch -\` run inside the namespace, before the tc batch):`);
    for (const l of p.links) out.push(`  ${l}`);
  }
  out.push('', `tc batch (${p.apply.length} lines, one \`tc -batch -\` run inside the namespace):`);
  yield `${out.join('\n')}\n`;
  // One join per piece of the batch's lines, indented (10,000 lines: no indented copy of each one).
  for (let i = 0; i < p.apply.length; i += BATCH_LINES_PER_PIECE) yield `  ${p.apply.slice(i, i + BATCH_LINES_PER_PIECE).join('\n  ')}\n`;
  out.length = 0;
  if (direction === 'egress') {
    out.push('', 'Revert (one `tc -json -force -batch -` run; the kernel refuses the delete unless the root handle is ours):');
    for (const l of p.revert) out.push(`  ${l}`);
  } else {
    const ifb = p.ifb ?? '?';
    out.push('', 'Revert (4 runs; each removes only what is ours and reads back that it is gone):');
    out.push(`  1. tc: ${p.revert.join(' · ')}`,
      `  2. tc: qdisc show dev ${p.interface} · filter show dev ${p.interface} ingress · qdisc show dev ${ifb}`,
      `  3. tc: qdisc del dev ${p.interface} ingress (only when its filters are our redirect, prio 20035, to ${ifb}) · the same three shows`,
      `  4. ip: link del dev ${ifb} · link show type ifb   (${ifb} must be gone)`);
  }
  // The revert section starts with an empty line: the text after the batch starts with the line end before it.
  yield `${out.join('\n')}\n`;
}
