/**
 * The schemas a kube-apiserver holds for the objects netchaos touches, and what it does with them on write:
 *
 * - Built-in types (core/v1 Pod, Node, Service, Event; discovery/v1 EndpointSlice): the Kubernetes OpenAPI
 *   definitions as the kubernetes-models package ships them (Kubernetes 1.33, compiled validators) for
 *   types, required fields and enums, and @kubernetes/client-node's model type map (generated from the same
 *   OpenAPI, 1.34) for the field tree. As the apiserver does: a value of the wrong JSON type fails decoding
 *   (400 BadRequest, "cannot be handled as a Pod: json: cannot unmarshal …"); a field the type does not have
 *   is dropped with a `Warning: 299 - "unknown field \"spec.foo\""` header (fieldValidation=Warn, the
 *   default when the client sends none, as client-node does); a missing required field or an unsupported enum
 *   value is a 422 Invalid with the field path.
 * - Custom resources (ChaosEngine, ChaosResult): the real Litmus CRDs' openAPIV3Schema ($LITMUS_CRDS_DIR,
 *   else ../shared/litmus/crds next to the repository, as scripts/check-crds.ts finds them). Fields outside a
 *   structural schema are pruned (kept under x-kubernetes-preserve-unknown-fields), metadata is pruned to
 *   ObjectMeta, then the object is validated (kube-openapi: 422 with `<path> in body must be of type …`).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { Event } from 'kubernetes-models/v1/Event';
import { Node } from 'kubernetes-models/v1/Node';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { crdDir, makeAjv, readCrd } from '../../../scripts/check-crds.ts';
import { type FieldError, invalid, notSupported, required, typeInvalid } from './status.ts';

/* eslint-disable @typescript-eslint/no-dynamic-delete, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return */
type Obj = Record<string, any>;

/** What a write does to an object before it is stored: dropped fields (warnings), or why it is refused. */
export type SchemaResult =
  | { readonly ok: true; readonly object: Obj; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly decode: string }
  | { readonly ok: false; readonly invalid: readonly FieldError[]; readonly warnings: readonly string[] };

/** `/spec/containers/0/name` → `spec.containers[0].name`. */
export function fieldPath(pointer: string): string {
  return pointer.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((out, seg) => (/^\d+$/.test(seg) ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg), '');
}

const valueAt = (obj: unknown, pointer: string): unknown =>
  pointer.split('/').slice(1).reduce<any>((v, seg) => (v === undefined || v === null ? undefined : v[seg.replaceAll('~1', '/').replaceAll('~0', '~')]), obj);

const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v);

// ---- built-in types ---------------------------------------------------------------------------------

interface ModelClass { new (data: any): { validate(): void } }

interface BuiltIn {
  readonly kind: string;
  readonly apiVersion: string;
  /** client-node's model name: its attributeTypeMap is the field tree. */
  readonly typeName: string;
  readonly model: ModelClass;
}

const builtIns: Readonly<Record<string, BuiltIn>> = {
  pods: { kind: 'Pod', apiVersion: 'v1', typeName: 'V1Pod', model: Pod },
  nodes: { kind: 'Node', apiVersion: 'v1', typeName: 'V1Node', model: Node },
  services: { kind: 'Service', apiVersion: 'v1', typeName: 'V1Service', model: Service },
  events: { kind: 'Event', apiVersion: 'v1', typeName: 'CoreV1Event', model: Event },
  endpointslices: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', typeName: 'V1EndpointSlice', model: EndpointSlice },
};

interface Attribute { readonly baseName: string; readonly type: string }

function attributes(typeName: string): readonly Attribute[] | undefined {
  const cls = (k8s as Record<string, any>)[typeName];
  return typeof cls?.getAttributeTypeMap === 'function' ? cls.getAttributeTypeMap() : undefined;
}

const arrayOf = (t: string): string | undefined => /^Array<(.+)>$/.exec(t)?.[1];
const mapOf = (t: string): string | undefined => /^\{ \[key: string\]: (.+); \}$/.exec(t)?.[1];

/** Drops the fields a type does not have, returning their paths (the apiserver's unknown-field warnings). */
function pruneTyped(value: any, type: string, path: string, dropped: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const item = arrayOf(type);
  if (item !== undefined) {
    if (Array.isArray(value)) value.forEach((v, i) => { pruneTyped(v, item, `${path}[${i}]`, dropped); });
    return;
  }
  const mapped = mapOf(type);
  if (mapped !== undefined) {
    if (!Array.isArray(value)) for (const [k, v] of Object.entries(value)) pruneTyped(v, mapped, `${path}[${k}]`, dropped);
    return;
  }
  const attrs = attributes(type);
  if (!attrs || Array.isArray(value)) return;
  for (const key of Object.keys(value)) {
    const a = attrs.find((x) => x.baseName === key);
    const p = path ? `${path}.${key}` : key;
    if (!a) { dropped.push(p); delete value[key]; } else pruneTyped(value[key], a.type, p, dropped);
  }
}

/** The Go type the decoder would name in its error (an approximation from the client-node type map). */
function goTypeAt(typeName: string, pointer: string): { parent: string; type: string } {
  let type = typeName;
  let parent = typeName;
  for (const seg of pointer.split('/').slice(1)) {
    const item = arrayOf(type) ?? mapOf(type);
    if (item !== undefined) { type = item; continue; }
    const a = attributes(type)?.find((x) => x.baseName === seg);
    if (!a) break;
    parent = type;
    type = a.type;
  }
  const go = (t: string): string => {
    const item = arrayOf(t);
    if (item !== undefined) return `[]${go(item)}`;
    const m = mapOf(t);
    if (m !== undefined) return `map[string]${go(m)}`;
    if (t === 'number') return 'int64';
    if (t === 'boolean') return 'bool';
    if (t === 'Date') return 'v1.Time';
    if (t === 'IntOrString') return 'intstr.IntOrString';
    return /^(Core)?V\d\w*$/.test(t) ? `v1.${t.replace(/^(Core)?V\d(beta\d|alpha\d)?/, '')}` : t;
  };
  return { parent: parent.replace(/^(Core)?V\d(beta\d|alpha\d)?/, ''), type: go(type) };
}

/** Kubernetes `required`/`enum`/format errors of a built-in type → field errors (the 422 causes). */
function builtInFieldErrors(errors: readonly ErrorObject[], object: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const path = fieldPath(e.instancePath);
    if (e.keyword === 'required') {
      const missing = String(e.params['missingProperty']);
      out.push(required(path ? `${path}.${missing}` : missing));
    } else if (e.keyword === 'enum') {
      out.push(notSupported(path, valueAt(object, e.instancePath), (e.params['allowedValues'] as unknown[]).map(String)));
    } else out.push(invalid(path, valueAt(object, e.instancePath), e.message ?? e.keyword));
  }
  return out;
}

function modelErrors(model: ModelClass, object: Obj): ErrorObject[] {
  try {
    new model(object).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: unknown }).errors;
    if (Array.isArray(errors)) return errors as ErrorObject[];
    throw error;
  }
}

/** Decodes, prunes (with warnings) and schema-validates a built-in object. */
export function checkBuiltIn(resource: string, input: Obj): SchemaResult {
  const b = builtIns[resource];
  if (!b) throw new Error(`no built-in schema for ${resource}`);
  const object = structuredClone(input);
  const first = modelErrors(b.model, object);
  const decode = first.find((e) => e.keyword === 'type');
  if (decode) {
    const { parent, type } = goTypeAt(b.typeName, decode.instancePath);
    const version = b.apiVersion.split('/').at(-1) ?? 'v1';
    return {
      ok: false,
      decode: `${b.kind} in version ${JSON.stringify(version)} cannot be handled as a ${b.kind}: json: cannot unmarshal ${jsonType(valueAt(object, decode.instancePath))} into Go struct field ${parent}.${fieldPath(decode.instancePath)} of type ${type}`,
    };
  }
  const dropped: string[] = [];
  pruneTyped(object, b.typeName, '', dropped);
  const warnings = dropped.map((p) => `unknown field ${JSON.stringify(p)}`);
  return { ok: true, object, warnings };
}

/** The schema (required, enum…) errors of a built-in object, after defaulting. */
export function validateBuiltIn(resource: string, object: Obj): FieldError[] {
  const b = builtIns[resource];
  if (!b) throw new Error(`no built-in schema for ${resource}`);
  return builtInFieldErrors(modelErrors(b.model, object).filter((e) => e.keyword !== 'type'), object);
}

// ---- custom resources ---------------------------------------------------------------------------------

/** The fields of ObjectMeta (metadata of a custom resource is pruned to these). */
const objectMetaFields = new Set(attributes('V1ObjectMeta')?.map((a) => a.baseName) ?? []);

/** Prunes what a structural schema does not specify; returns the pruned paths. */
function pruneStructural(value: any, schema: Obj | undefined, path: string, dropped: string[], root: boolean): void {
  if (value === null || typeof value !== 'object' || !schema) return;
  if (Array.isArray(value)) {
    const items = schema['items'];
    if (items && typeof items === 'object') value.forEach((v, i) => { pruneStructural(v, items, `${path}[${i}]`, dropped, false); });
    return;
  }
  const props: Obj = schema['properties'] ?? {};
  const additional = schema['additionalProperties'];
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(value)) {
    const p = path ? `${path}.${key}` : key;
    if ((root || embedded) && (key === 'apiVersion' || key === 'kind')) continue;
    if ((root || embedded) && key === 'metadata') {
      const meta = value[key];
      if (meta && typeof meta === 'object') for (const mk of Object.keys(meta)) if (!objectMetaFields.has(mk)) { dropped.push(`${p}.${mk}`); delete meta[mk]; }
      continue;
    }
    if (key in props) pruneStructural(value[key], props[key], p, dropped, false);
    else if (additional && typeof additional === 'object') pruneStructural(value[key], additional, p, dropped, false);
    else if (!preserve && additional !== true) { dropped.push(p); delete value[key]; }
  }
}

export interface CustomResource {
  readonly kind: string;
  readonly group: string;
  readonly versions: readonly string[];
  readonly schema: Obj;
  readonly validate: ValidateFunction;
}

let ajv: Ajv | undefined;
const crds = new Map<string, CustomResource>();

/** The CRD of a custom resource (by plural), read once from the Litmus CRDs directory. */
export function customResource(plural: string, env: NodeJS.ProcessEnv = process.env): CustomResource {
  const known = crds.get(plural);
  if (known) return known;
  const dir = crdDir(env);
  const file = `${dir}/${plural === 'chaosresults' ? 'chaosresults' : plural.replace(/s$/, '')}_crd.yaml`;
  if (!existsSync(file)) {
    throw new Error(`the API double needs the real Litmus CRDs: ${file} does not exist (set LITMUS_CRDS_DIR to the directory with chaosengine_crd.yaml, chaosresults_crd.yaml…)`);
  }
  const crd = readCrd(readFileSync(file, 'utf8'));
  ajv ??= makeAjv();
  const schema = crd.schema as Obj;
  const cr: CustomResource = { kind: crd.kind, group: crd.group, versions: crd.versions, schema, validate: ajv.compile({ ...schema, properties: { ...schema['properties'], metadata: { type: 'object' } } }) };
  crds.set(plural, cr);
  return cr;
}

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);

/** kube-openapi's errors (apiextensions-apiserver validation: kubeOpenAPIResultToFieldErrors) → field errors. */
function crdFieldErrors(errors: readonly ErrorObject[], object: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    // Errors inside the branches of oneOf/anyOf are reported once, at the junctor.
    if (/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath)) continue;
    const path = fieldPath(e.instancePath);
    const value = valueAt(object, e.instancePath);
    if (e.keyword === 'required') out.push(required(path ? `${path}.${String(e.params['missingProperty'])}` : String(e.params['missingProperty'])));
    else if (e.keyword === 'type') out.push(typeInvalid(path, typeName(value), `${path} in body must be of type ${String(e.params['type'])}: ${JSON.stringify(typeName(value))}`));
    else if (e.keyword === 'enum') out.push(notSupported(path, value, (e.params['allowedValues'] as unknown[]).map(String)));
    else if (e.keyword === 'pattern') out.push(invalid(path, value, `${path} in body should match '${String(e.params['pattern'])}'`));
    else if (e.keyword === 'oneOf') out.push(invalid(path, value, `${path} in body must validate one and only one schema (oneOf)`));
    else out.push(invalid(path, value, `${path} in body ${e.message ?? e.keyword}`));
  }
  return out;
}

/** Prunes a custom resource to its structural schema (with warnings) and validates it against the CRD. */
export function checkCustom(plural: string, input: Obj): SchemaResult {
  const cr = customResource(plural);
  const object = structuredClone(input);
  const dropped: string[] = [];
  pruneStructural(object, cr.schema, '', dropped, true);
  const warnings = dropped.map((p) => `unknown field ${JSON.stringify(p)}`);
  if (!cr.validate(object)) return { ok: false, invalid: crdFieldErrors(cr.validate.errors ?? [], object), warnings };
  return { ok: true, object, warnings };
}
