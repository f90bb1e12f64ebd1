/**
 * Label and field selectors as the apiserver parses them (k8s.io/apimachinery/pkg/labels/selector.go
 * Parse: equality- and set-based; pkg/fields/selector.go ParseSelector: =, ==, != with \ escapes), and the
 * fields each resource lets a list select on (its registry strategy's selectable fields). A selector that
 * does not parse is a 400 BadRequest, as on a real server.
 */
import { isQualifiedName, isValidLabelValue } from './validation.ts';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access */
type Obj = Record<string, any>;

export type Requirement =
  | { readonly key: string; readonly op: 'exists' | '!' }
  | { readonly key: string; readonly op: '=' | '!=' | 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'gt' | 'lt'; readonly values: readonly [string] };

/** A parsed label selector, or the parse error the apiserver would answer 400 with. */
export type ParsedLabels = { readonly ok: true; readonly requirements: readonly Requirement[] } | { readonly ok: false; readonly error: string };

type Token = { kind: 'id' | 'op' | ',' | '(' | ')' | 'end'; text: string };

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const two = input.slice(i, i + 2);
    if (two === '==' || two === '!=') { tokens.push({ kind: 'op', text: two }); i += 2; continue; }
    if (c === '=' || c === '!' || c === '>' || c === '<') { tokens.push({ kind: 'op', text: c }); i++; continue; }
    if (c === ',' || c === '(' || c === ')') { tokens.push({ kind: c, text: c }); i++; continue; }
    let j = i;
    while (j < input.length && !/[\s,()=!<>]/.test(input[j]!)) j++;
    tokens.push({ kind: 'id', text: input.slice(i, j) });
    i = j;
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

function keyErrors(key: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? `unable to parse requirement: <nil>: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}` : undefined;
}

function valueErrors(key: string, values: readonly string[]): string | undefined {
  for (const [i, v] of values.entries()) {
    const errs = isValidLabelValue(v);
    if (errs.length) return `unable to parse requirement: values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${errs.join('; ')}`;
  }
  return undefined;
}

/** labels.Parse. */
export function parseLabelSelector(input: string): ParsedLabels {
  const t = lex(input);
  let p = 0;
  const requirements: Requirement[] = [];
  const fail = (expected: string): ParsedLabels => ({ ok: false, error: `found '${t[p]!.text || 'end of string'}', expected: ${expected}` });
  if (t[0]!.kind === 'end') return { ok: true, requirements };
  for (;;) {
    let not = false;
    if (t[p]!.kind === 'op' && t[p]!.text === '!') { not = true; p++; }
    if (t[p]!.kind !== 'id') return fail('identifier');
    const key = t[p++]!.text;
    const ke = keyErrors(key);
    if (ke) return { ok: false, error: ke };
    const next = t[p]!;
    if (not || next.kind === ',' || next.kind === 'end') {
      if (not && (next.kind === 'op' || (next.kind === 'id' && (next.text === 'in' || next.text === 'notin')))) return fail("',' or 'end of string'");
      requirements.push({ key, op: not ? '!' : 'exists' });
    } else if (next.kind === 'op' && ['=', '==', '!=', '>', '<'].includes(next.text)) {
      p++;
      const valueToken = t[p]!;
      let value = '';
      if (valueToken.kind === 'id') { value = valueToken.text; p++; } else if (valueToken.kind !== ',' && valueToken.kind !== 'end') return fail('identifier');
      if (next.text === '>' || next.text === '<') {
        if (!/^-?\d+$/.test(value)) return { ok: false, error: `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer` };
        requirements.push({ key, op: next.text === '>' ? 'gt' : 'lt', values: [value] });
      } else {
        const ve = valueErrors(key, [value]);
        if (ve) return { ok: false, error: ve };
        requirements.push({ key, op: next.text === '!=' ? '!=' : '=', values: [value] });
      }
    } else if (next.kind === 'id' && (next.text === 'in' || next.text === 'notin')) {
      p++;
      if (t[p]!.kind !== '(') return fail("'('");
      p++;
      const values: string[] = [];
      for (;;) {
        if (t[p]!.kind === 'id') values.push(t[p++]!.text);
        else if (t[p]!.kind === ',' || t[p]!.kind === ')') values.push('');
        else return fail("',', ')' or identifier");
        if (t[p]!.kind === ',') { p++; continue; }
        if (t[p]!.kind === ')') { p++; break; }
        return fail("',' or ')'");
      }
      const ve = valueErrors(key, values);
      if (ve) return { ok: false, error: ve };
      requirements.push({ key, op: next.text === 'in' ? 'in' : 'notin', values });
    } else return fail("'=', '!=', '==', 'in', notin'");
    if (t[p]!.kind === 'end') break;
    if (t[p]!.kind !== ',') return fail("',' or 'end of string'");
    p++;
  }
  return { ok: true, requirements };
}

/** Requirement.Matches. */
export function matchesLabels(requirements: readonly Requirement[], labels: Readonly<Record<string, string>> = {}): boolean {
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'exists': return has;
      case '!': return !has;
      case '=': case 'in': return has && r.values.includes(v ?? '');
      case '!=': case 'notin': return !has || !r.values.includes(v ?? '');
      case 'gt': case 'lt': {
        if (!has || !/^-?\d+$/.test(v ?? '')) return false;
        return r.op === 'gt' ? Number(v) > Number(r.values[0]) : Number(v) < Number(r.values[0]);
      }
    }
    return false;
  });
}

// ---- fields -----------------------------------------------------------------------------------------

export interface FieldTerm { readonly field: string; readonly op: '=' | '!='; readonly value: string }

/** fields.ParseSelector: `a=b,c!=d`, `\,` `\=` `\\` escaped. */
export function parseFieldSelector(input: string): { ok: true; terms: FieldTerm[] } | { ok: false; error: string } {
  const terms: FieldTerm[] = [];
  if (input === '') return { ok: true, terms };
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === '\\' && i + 1 < input.length) { cur += c + input[i + 1]!; i++; } else if (c === ',') { parts.push(cur); cur = ''; } else cur += c;
  }
  parts.push(cur);
  const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');
  for (const part of parts) {
    const m = /^((?:[^\\!=]|\\.)*)(!=|==|=)(.*)$/.exec(part);
    if (!m) return { ok: false, error: `invalid selector: '${input}'; can't understand '${part}'` };
    terms.push({ field: unescape(m[1]!), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]!) });
  }
  return { ok: true, terms };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

/** The selectable fields of each resource (its registry strategy's GetAttrs / field label conversion). */
export const selectableFields: Readonly<Record<string, Readonly<Record<string, (o: Obj) => string>>>> = {
  pods: {
    'metadata.name': (o) => str(o['metadata']?.['name']), 'metadata.namespace': (o) => str(o['metadata']?.['namespace']),
    'spec.nodeName': (o) => str(o['spec']?.['nodeName']), 'spec.restartPolicy': (o) => str(o['spec']?.['restartPolicy']),
    'spec.schedulerName': (o) => str(o['spec']?.['schedulerName']), 'spec.serviceAccountName': (o) => str(o['spec']?.['serviceAccountName']),
    'spec.hostNetwork': (o) => String(o['spec']?.['hostNetwork'] === true), 'status.phase': (o) => str(o['status']?.['phase']),
    'status.podIP': (o) => str(o['status']?.['podIP']), 'status.nominatedNodeName': (o) => str(o['status']?.['nominatedNodeName']),
  },
  nodes: { 'metadata.name': (o) => str(o['metadata']?.['name']), 'spec.unschedulable': (o) => String(o['spec']?.['unschedulable'] === true) },
  services: {
    'metadata.name': (o) => str(o['metadata']?.['name']), 'metadata.namespace': (o) => str(o['metadata']?.['namespace']),
    'spec.clusterIP': (o) => str(o['spec']?.['clusterIP']), 'spec.type': (o) => str(o['spec']?.['type']),
  },
  events: {
    'metadata.name': (o) => str(o['metadata']?.['name']), 'metadata.namespace': (o) => str(o['metadata']?.['namespace']),
    'involvedObject.kind': (o) => str(o['involvedObject']?.['kind']), 'involvedObject.namespace': (o) => str(o['involvedObject']?.['namespace']),
    'involvedObject.name': (o) => str(o['involvedObject']?.['name']), 'involvedObject.uid': (o) => str(o['involvedObject']?.['uid']),
    'involvedObject.apiVersion': (o) => str(o['involvedObject']?.['apiVersion']), 'involvedObject.resourceVersion': (o) => str(o['involvedObject']?.['resourceVersion']),
    'involvedObject.fieldPath': (o) => str(o['involvedObject']?.['fieldPath']), reason: (o) => str(o['reason']),
    reportingComponent: (o) => str(o['reportingComponent']), source: (o) => str(o['source']?.['component']), type: (o) => str(o['type']),
  },
};

/** metadata.name and metadata.namespace: every other resource (EndpointSlices, custom resources). */
const metaOnly: Readonly<Record<string, (o: Obj) => string>> = {
  'metadata.name': (o) => str(o['metadata']?.['name']), 'metadata.namespace': (o) => str(o['metadata']?.['namespace']),
};

/** Whether the object matches; a string is the 400 message for an unsupported field label. */
export function matchesFields(resource: string, terms: readonly FieldTerm[], obj: Obj): boolean | string {
  const fields = selectableFields[resource] ?? metaOnly;
  for (const t of terms) {
    const get = fields[t.field];
    if (!get) return `field label not supported: ${t.field}`;
    if ((get(obj) === t.value) !== (t.op === '=')) return false;
  }
  return true;
}
