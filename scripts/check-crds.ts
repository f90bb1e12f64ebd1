/**
 * Validates experiment.yaml and engine.yaml against the real Litmus CRDs' openAPIV3Schema (npm run check:crds).
 *
 * CRDs: $LITMUS_CRDS_DIR, else ../shared/litmus/crds next to the repository. Missing CRDs: skipped with a
 * message, except when CI is set: then it fails.
 *
 * Kubernetes' schema dialect, with ajv:
 *  - x-kubernetes-int-or-string: a keyword that accepts an integer or a string;
 *  - x-kubernetes-preserve-unknown-fields: unknown fields are kept there. Everywhere else the API server
 *    PRUNES unknown fields silently (structural schemas), which for a manifest we ship is a bug, so an
 *    object schema with `properties` and neither additionalProperties nor preserve-unknown-fields is
 *    checked with additionalProperties: false ("would be pruned");
 *  - formats int32/int64 (ranges), allowEmptyValue (an OpenAPI annotation some Litmus fields carry);
 *  - metadata is ObjectMeta: name must be a DNS-1123 subdomain, labels/annotations string maps.
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { files, repoPath } from './manifests.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of a CRD schema in which every object that Kubernetes would prune rejects unknown fields. */
export function withPruningAsErrors(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withPruningAsErrors);
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    // `properties` maps names to schemas: recurse into each schema, not into the map as a schema.
    out[k] = k === 'properties' && isObject(v)
      ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, withPruningAsErrors(s)]))
      : withPruningAsErrors(v);
  }
  if (isObject(out['properties']) && out['additionalProperties'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

const objectMeta = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', maxLength: 253 },
    namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
  additionalProperties: true,
};

export function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  ajv.addKeyword({
    keyword: 'x-kubernetes-int-or-string',
    schemaType: 'boolean',
    errors: false,
    validate: (on: boolean, data: unknown) => !on || typeof data === 'string' || Number.isInteger(data),
  });
  ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'allowEmptyValue', schemaType: 'boolean' });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  return ajv;
}

export interface Crd {
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly string[];
  readonly schema: unknown;
}

export function readCrd(text: string): Crd {
  const crd: unknown = parse(text);
  if (!isObject(crd) || !isObject(crd['spec'])) throw new Error('not a CustomResourceDefinition');
  const spec = crd['spec'];
  const names = spec['names'];
  const versions = spec['versions'];
  if (!isObject(names) || typeof names['kind'] !== 'string' || typeof spec['group'] !== 'string' || !Array.isArray(versions)) {
    throw new Error('CRD without group, names.kind or versions');
  }
  const first: unknown = versions[0];
  const schema = isObject(first) && isObject(first['schema']) ? first['schema']['openAPIV3Schema'] : undefined;
  if (!isObject(schema)) throw new Error(`CRD ${names['kind']}: no spec.versions[0].schema.openAPIV3Schema`);
  const served = versions.filter((v): v is Json => isObject(v) && v['served'] === true).map((v) => String(v['name']));
  return { group: spec['group'], kind: names['kind'], versions: served, schema };
}

const describe = (e: ErrorObject): string =>
  `${e.instancePath || '/'}: ${e.keyword === 'additionalProperties' ? `unknown field "${String(e.params['additionalProperty'])}" (the API server would prune it)` : e.message ?? e.keyword}`;

/** Problems of one object against its CRD (empty = valid). */
export function validateAgainst(ajv: Ajv, crd: Crd, object: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(object)) return ['not an object'];
  if (object['apiVersion'] !== undefined && !crd.versions.some((v) => object['apiVersion'] === `${crd.group}/${v}`)) {
    problems.push(`/apiVersion: ${JSON.stringify(object['apiVersion'])} is not served (${crd.versions.map((v) => `${crd.group}/${v}`).join(', ')})`);
  }
  if (object['kind'] !== crd.kind) problems.push(`/kind: expected ${crd.kind}, got ${JSON.stringify(object['kind'])}`);
  const schema = withPruningAsErrors(crd.schema);
  if (isObject(schema) && isObject(schema['properties'])) schema['properties']['metadata'] = objectMeta;
  const validate = ajv.compile(isObject(schema) ? schema : {});
  if (!validate(object)) problems.push(...(validate.errors ?? []).map(describe));
  return problems;
}

export function crdDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['LITMUS_CRDS_DIR'] ?? repoPath('..', 'shared', 'litmus', 'crds');
}

function main(): number {
  const dir = crdDir();
  const crdFiles = { ChaosExperiment: `${dir}/chaosexperiment_crd.yaml`, ChaosEngine: `${dir}/chaosengine_crd.yaml` };
  const missing = Object.values(crdFiles).filter((f) => !existsSync(f));
  if (missing.length) {
    const msg = `check:crds: CRDs not found: ${missing.join(', ')} (set LITMUS_CRDS_DIR)`;
    if (process.env['CI']) {
      process.stderr.write(`${msg}\ncheck:crds: FAILED: CI is set, so missing CRDs are an error, not a skip\n`);
      return 1;
    }
    process.stderr.write(`${msg}\ncheck:crds: SKIPPED (not CI)\n`);
    return 0;
  }
  const ajv = makeAjv();
  const crds = { ChaosExperiment: readCrd(readFileSync(crdFiles.ChaosExperiment, 'utf8')), ChaosEngine: readCrd(readFileSync(crdFiles.ChaosEngine, 'utf8')) };
  let failed = 0;
  for (const [path, crd] of [[files.experiment, crds.ChaosExperiment], [files.engine, crds.ChaosEngine]] as const) {
    const docs = parseAllDocuments(readFileSync(path, 'utf8'));
    const list = Array.isArray(docs) ? docs : [];
    for (const [i, doc] of list.entries()) {
      const problems = doc.errors.length ? doc.errors.map(String) : validateAgainst(ajv, crd, doc.toJS());
      const where = `${path.slice(repoPath('').length)}${list.length > 1 ? ` #${i + 1}` : ''}`;
      if (problems.length) {
        failed++;
        process.stderr.write(`${where}: INVALID against the ${crd.kind} CRD:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
      } else process.stdout.write(`${where}: valid ${crd.kind} (${crd.group}, CRD from ${dir})\n`);
    }
  }
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main();
