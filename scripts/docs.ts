/**
 * docs/variables.md, and the table between `<!-- variables:start -->` and `<!-- variables:end -->` in
 * README.md when those markers exist, generated from the one table of variables (src/config/vars.ts).
 *
 *   npm run docs              rewrite both
 *   npm run docs -- --check   exit 1 when one is not current (the unit tests check the same)
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Section, type Variable, variables } from '../src/config/vars.ts';
import { type GeneratedFile, repoPath, syncFiles } from './manifests.ts';

export const START = '<!-- variables:start -->';
export const END = '<!-- variables:end -->';

const sectionTitles: Readonly<Record<Section, string>> = {
  fault: 'Fault',
  destinations: 'Destinations',
  timing: 'Timing',
  safety: 'Safety',
  effect: 'Proof of the effect',
  targets: 'Targets (Litmus mode)',
  runtime: 'Container runtime',
  litmus: 'Litmus run',
  output: 'Output',
};

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string): string => (text === '' ? '' : `\`${text}\``);

function where(v: Variable): string {
  const only = 'litmusOnly' in v && v.litmusOnly;
  return [only ? '`run` only' : `\`${v.flag.replace(/ <.*/, '')}\``, v.manifest ? 'manifest' : '', v.litmus ? 'litmus-go' : '']
    .filter(Boolean).join(', ');
}

/** One markdown table of the variables, grouped by section in the table's order. */
export function renderVariablesTable(vars: readonly Variable[] = variables): string {
  const sections = [...new Set(vars.map((v) => v.section))];
  const out: string[] = [];
  for (const s of sections) {
    out.push(`| **${sectionTitles[s]}** | | | |`);
    for (const v of vars.filter((x) => x.section === s)) {
      out.push(`| \`${v.env}\` | ${cell(code(v.default))} | ${cell(v.doc)} | ${where(v)} |`);
    }
  }
  return ['| Variable | Default | Meaning | Where |', '|---|---|---|---|', ...out].join('\n');
}

/** docs/variables.md. */
export function renderVariablesDoc(vars: readonly Variable[] = variables): string {
  return [
    '# Variables',
    '',
    '<!-- Generated from src/config/vars.ts by `npm run docs`; edit the table there, not this file. -->',
    '',
    'Every setting is an environment variable (what a ChaosEngine sets) and, except the `run`-only ones, a',
    'command-line flag of `netchaos plan` and `netchaos inject` (a flag wins over its variable; an empty',
    'variable counts as unset). **Where**: the flag; *manifest*: listed with its default in the',
    'ChaosExperiment\'s env (experiments/pod-dependency-latency/experiment.yaml); *litmus-go*: same name and',
    'meaning as in litmus-go\'s pod-network-latency.',
    '',
    renderVariablesTable(vars),
    '',
  ].join('\n');
}

/** README text with the table between the markers replaced; unchanged when the markers are absent. */
export function fillMarkers(text: string, table: string = renderVariablesTable()): string {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return text;
  return `${text.slice(0, start + START.length)}\n${table}\n${text.slice(end)}`;
}

export const docFiles = { variables: repoPath('docs', 'variables.md'), readme: repoPath('README.md') } as const;

/** Every generated doc: path → [current text, what the generator writes]. */
export function generatedDocs(): GeneratedFile[] {
  const out = [{ path: docFiles.variables, current: existsSync(docFiles.variables) ? readFileSync(docFiles.variables, 'utf8') : '', expected: renderVariablesDoc() }];
  if (existsSync(docFiles.readme)) {
    const readme = readFileSync(docFiles.readme, 'utf8');
    out.push({ path: docFiles.readme, current: readme, expected: fillMarkers(readme) });
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = syncFiles(generatedDocs(), process.argv.slice(2), 'npm run docs');
