/** Human-readable text for a Plan (what `netchaos plan` prints). Pure. */
import { formatCidr } from '../config/values.js';
import type { Entry, Plan } from './plan.js';

const MAX_LISTED = 50;

function entryText(e: Entry): string {
  const where = e.cidr ? formatCidr(e.cidr) : e.family === 'all' ? 'every packet' : `any IPv${e.family}`;
  const ports = [e.dport !== undefined ? `dport ${e.dport}` : '', e.sport !== undefined ? `sport ${e.sport}` : ''].filter(Boolean).join(' ');
  const to = e.action === 'bypass' ? 'untouched (port exclusion)' : `band ${e.band}`;
  return `${where}${ports ? ` ${ports}` : ''} → ${to}`;
}

export function describePlan(p: Plan, context: { target?: string; root?: string } = {}): string {
  const out: string[] = [];
  for (const w of p.warnings) out.push(`!!! WARNING: ${w}`, '');
  out.push(`Interface ${p.interface}${context.target ? ` in ${context.target}` : ''}`);
  if (context.root) out.push(`Current root qdisc: ${context.root}`);
  out.push(`Root qdisc: prio ${p.rootHandle} with ${3 + p.bands.length} bands (1-3: normal traffic by the default priomap)`);
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
    for (const t of p.tables) out.push(`  IPv${t.family} ${t.kind} table ${t.htid} (divisor ${t.divisor}): ${t.nodes} entries`);
  }
  out.push('', `tc batch (${p.apply.length} lines, one \`tc -batch -\` run inside the namespace):`);
  for (const l of p.apply) out.push(`  ${l}`);
  out.push('', 'Revert (one `tc -json -force -batch -` run; the kernel refuses the delete unless the root handle is ours):');
  for (const l of p.revert) out.push(`  ${l}`);
  return out.join('\n') + '\n';
}
