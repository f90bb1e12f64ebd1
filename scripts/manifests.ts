/**
 * The shipping files' model and generator. experiments/pod-dependency-latency/experiment.yaml and rbac.yaml
 * carry parts generated from the code: the env list (src/config/vars.ts), the permissions and RBAC rules
 * (src/kube/permissions.ts), the image tag and version labels (package.json). Everything else in those files
 * (comments, order, the hand-written parts) is kept as it is, through the yaml Document API.
 *
 *   npm run manifests          rewrite the generated parts in place
 *   npm run manifests -- --check   exit 1 when a file is not current (the unit tests check the same)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Document, Scalar, YAMLMap, YAMLSeq, isMap, isSeq, parseAllDocuments, parseDocument } from 'yaml';
import { type Variable, variables } from '../src/config/vars.ts';
import { type ApiPermission, apiPermissions } from '../src/kube/permissions.ts';

export const FAULT = 'pod-dependency-latency';
export const CATEGORY = 'netchaos';
export const IMAGE_REPOSITORY = 'ghcr.io/netchaos/netchaos';
export const SERVICE_ACCOUNT = `${FAULT}-sa`;

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const repoPath = (...parts: string[]): string => [repoRoot.replace(/\/$/, ''), ...parts].join('/');
export const experimentDir = repoPath('experiments', FAULT);
export const files = {
  experiment: `${experimentDir}/experiment.yaml`,
  engine: `${experimentDir}/engine.yaml`,
  rbac: `${experimentDir}/rbac.yaml`,
  scc: `${experimentDir}/openshift-scc.yaml`,
  faultCsv: repoPath('chartserviceversion', `${FAULT}.chartserviceversion.yaml`),
  categoryCsv: repoPath('chartserviceversion', `${CATEGORY}.chartserviceversion.yaml`),
  packageYaml: repoPath('chartserviceversion', `${CATEGORY}.package.yaml`),
  icon: repoPath('chartserviceversion', 'icons', `${FAULT}.svg`),
  /** Rendered from the SVG by `npm run icons` (ChaosCenter's UI asks for `<fault>.png`). */
  iconPng: repoPath('chartserviceversion', 'icons', `${FAULT}.png`),
} as const;

export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(repoPath('package.json'), 'utf8'));
  if (typeof pkg !== 'object' || pkg === null || !('version' in pkg) || typeof pkg.version !== 'string') {
    throw new Error('package.json has no version');
  }
  return pkg.version;
}

/** One env entry as Kubernetes takes it. */
export type EnvVar =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly valueFrom: { readonly fieldRef: { readonly fieldPath: string } } };

/**
 * The ChaosExperiment env: variables with manifest: true, in table order, value = default. A variable
 * that carries a `fieldRef` (a downward-API field path such as spec.nodeName) gets valueFrom instead.
 */
export function manifestEnv(vars: readonly Variable[] = variables): EnvVar[] {
  return vars.filter((v) => v.manifest).map((v) => {
    const fieldPath = 'fieldRef' in v && typeof v.fieldRef === 'string' ? v.fieldRef : undefined;
    return fieldPath ? { name: v.env, valueFrom: { fieldRef: { fieldPath } } } : { name: v.env, value: v.default };
  });
}

/** A PolicyRule as RBAC and the ChaosExperiment's `permissions` take it. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** `group/resource:verb` for every access a list of rules grants: rules compare as sets of these. */
export function accessSet(rules: readonly PolicyRule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g}/${res}:${v}`);
  return [...out].sort();
}

export const codeRules = (perms: readonly ApiPermission[] = apiPermissions, clusterScoped?: boolean): PolicyRule[] =>
  perms.filter((p) => clusterScoped === undefined || p.clusterScoped === clusterScoped)
    .map((p) => ({ apiGroups: [p.apiGroup], resources: [p.resource], verbs: [...p.verbs] }));

// ---- yaml helpers ----------------------------------------------------------------------------------------

const WIDTH = 100;

/** Wraps prose into comment lines (yaml prints each line after `#`). */
function commentLines(text: string, indent: number): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent + 2 + line.length + 1 + w.length > WIDTH) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => ` ${l}`).join('\n');
}

function quoted(value: string): Scalar {
  const s = new Scalar(value);
  s.type = Scalar.QUOTE_DOUBLE;
  return s;
}

function flowSeq(doc: Document, items: readonly string[]): YAMLSeq {
  const seq = doc.createNode(items.map(quoted));
  seq.flow = true;
  return seq;
}

function envNode(doc: Document, vars: readonly Variable[]): YAMLSeq {
  const seq = new YAMLSeq();
  const byName = new Map(vars.map((v) => [v.env, v]));
  manifestEnv(vars).forEach((e, i) => {
    const item = 'value' in e
      ? doc.createNode({ name: e.name, value: quoted(e.value) })
      : doc.createNode({ name: e.name, valueFrom: { fieldRef: { fieldPath: e.valueFrom.fieldRef.fieldPath } } });
    item.commentBefore = commentLines(byName.get(e.name)?.doc ?? '', 6);
    if (i > 0) item.spaceBefore = true;
    seq.items.push(item);
  });
  return seq;
}

function rulesNode(doc: Document, perms: readonly ApiPermission[], indent: number): YAMLSeq {
  const seq = new YAMLSeq();
  perms.forEach((p, i) => {
    const item = new YAMLMap();
    item.set('apiGroups', flowSeq(doc, [p.apiGroup]));
    item.set('resources', flowSeq(doc, [p.resource]));
    item.set('verbs', flowSeq(doc, p.verbs));
    item.commentBefore = commentLines(`${p.clusterScoped ? '(cluster-scoped) ' : ''}${p.when}`, indent);
    if (i > 0) item.spaceBefore = true;
    seq.items.push(item);
  });
  return seq;
}

function requireMap(doc: Document, path: readonly string[], file: string): YAMLMap {
  const node = doc.getIn(path, true);
  if (!isMap(node)) throw new Error(`${file}: ${path.join('.')} is not a map`);
  return node;
}

const toText = (doc: Document): string => doc.toString({ lineWidth: 0, flowCollectionPadding: false });

export interface Sources {
  readonly vars: readonly Variable[];
  readonly perms: readonly ApiPermission[];
  readonly version: string;
}

export const currentSources = (): Sources => ({ vars: variables, perms: apiPermissions, version: packageVersion() });

/** experiment.yaml with its generated parts brought up to date. */
export function renderExperiment(text: string, src: Sources): string {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`experiment.yaml: ${doc.errors.map(String).join('; ')}`);
  const def = requireMap(doc, ['spec', 'definition'], 'experiment.yaml');
  def.set('scope', src.perms.some((p) => p.clusterScoped) ? 'Cluster' : 'Namespaced');
  def.set('permissions', rulesNode(doc, src.perms, 6));
  def.set('image', `${IMAGE_REPOSITORY}:${src.version}`);
  def.set('env', envNode(doc, src.vars));
  requireMap(doc, ['metadata', 'labels'], 'experiment.yaml').set('app.kubernetes.io/version', src.version);
  requireMap(doc, ['spec', 'definition', 'labels'], 'experiment.yaml').set('app.kubernetes.io/version', src.version);
  return toText(doc);
}

/**
 * rbac.yaml with its generated rules brought up to date: the Role named after the fault gets the namespaced
 * rules of CHAOS_NAMESPACE except the helper pods', `<fault>-targets` the read-only ones to bind in target and
 * dependency namespaces, `<fault>-helpers` the helper pods' (HELPER_MODE auto/always only), the ClusterRole named
 * after the fault the cluster-scoped ones. Other documents stay as written.
 */
export function renderRbac(text: string, src: Sources): string {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error('rbac.yaml: empty');
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`rbac.yaml: ${doc.errors.map(String).join('; ')}`);
    const kind: unknown = doc.get('kind');
    const name: unknown = doc.getIn(['metadata', 'name']);
    if (kind === 'Role' && name === FAULT) doc.set('rules', rulesNode(doc, src.perms.filter((p) => !p.clusterScoped && p.role !== 'helpers'), 2));
    if (kind === 'Role' && name === `${FAULT}-targets`) doc.set('rules', rulesNode(doc, src.perms.filter((p) => !p.clusterScoped && p.role === 'targets'), 2));
    if (kind === 'Role' && name === `${FAULT}-helpers`) doc.set('rules', rulesNode(doc, src.perms.filter((p) => !p.clusterScoped && p.role === 'helpers'), 2));
    if (kind === 'ClusterRole' && name === FAULT) doc.set('rules', rulesNode(doc, src.perms.filter((p) => p.clusterScoped), 2));
    const labels = doc.getIn(['metadata', 'labels'], true);
    if (isMap(labels) && labels.has('app.kubernetes.io/version')) labels.set('app.kubernetes.io/version', src.version);
  }
  return docs.map((d) => toText(d)).join('');
}

/** A chartserviceversion with metadata.version = the package version. */
export function renderCsv(text: string, src: Sources): string {
  const doc = parseDocument(text);
  requireMap(doc, ['metadata'], 'chartserviceversion').set('version', src.version);
  const labels = doc.getIn(['spec', 'labels'], true);
  if (isMap(labels) && labels.has('app.kubernetes.io/version')) labels.set('app.kubernetes.io/version', src.version);
  return toText(doc);
}

/** Every generated file: path → [current text, what the generator writes]. */
export function generated(src: Sources = currentSources()): GeneratedFile[] {
  const render: [string, (text: string, s: Sources) => string][] = [
    [files.experiment, renderExperiment],
    [files.rbac, renderRbac],
    [files.faultCsv, renderCsv],
    [files.categoryCsv, renderCsv],
  ];
  return render.map(([path, fn]) => {
    const current = readFileSync(path, 'utf8');
    return { path, current, expected: fn(current, src) };
  });
}

/** Sequences' items as plain JS, for the tests. */
export const seqItems = (node: unknown): unknown[] => (isSeq(node) ? node.items : []);

export interface GeneratedFile {
  readonly path: string;
  readonly current: string;
  readonly expected: string;
}

/** Writes the files that are not current, or with --check only reports them; returns the exit code. */
export function syncFiles(list: readonly GeneratedFile[], argv: readonly string[], command: string): number {
  const check = argv.includes('--check');
  let stale = 0;
  for (const { path, current, expected } of list) {
    if (current === expected) continue;
    const rel = path.slice(repoRoot.length);
    if (check) {
      stale++;
      process.stderr.write(`${rel} is not current: run ${command}\n`);
    } else {
      writeFileSync(path, expected);
      process.stdout.write(`wrote ${rel}\n`);
    }
  }
  return stale ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = syncFiles(generated(), process.argv.slice(2), 'npm run manifests');
