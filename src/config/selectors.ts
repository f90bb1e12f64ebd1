/**
 * Grammars for naming Kubernetes objects in ENV values: the chaos-operator's TARGETS format,
 * DESTINATION_PODS, DESTINATION_SERVICES and DESTINATION_HOSTS. Pure; every parser throws a UsageError
 * naming the variable.
 */
import { UsageError } from '../model/errors.js';
import { parsePort } from '../model/addresses.js';
import { type PodSelector, type TargetSelector, type WorkloadKind, workloadKinds } from '../model/kube.js';
import type { HostDestination, PodDestination, ServiceDestination } from '../model/destinations.js';
import { splitList } from './values.js';

const show = (raw: string): string => JSON.stringify(raw);

/** A DNS-1123 label (namespaces, Service names). */
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS-1123 subdomain (pod and workload names). */
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseNamespace(variable: string, raw: string): string {
  const text = raw.trim();
  if (!dnsLabel.test(text)) throw new UsageError(variable, `${show(raw)} is not a valid namespace (lower-case letters, digits and '-', at most 63)`);
  return text;
}

export function parseObjectName(variable: string, raw: string): string {
  const text = raw.trim();
  if (!dnsSubdomain.test(text)) throw new UsageError(variable, `${show(raw)} is not a valid Kubernetes object name (lower-case letters, digits, '-' and '.')`);
  return text;
}

/** A label key: optional DNS prefix and '/', then a name of at most 63 characters. */
const labelKey = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * An equality-based label selector: `a=b`, `a==b`, `a!=b`, `a` (exists), `!a` (does not exist), comma-joined.
 * Returned normalised (`==` → `=`, no spaces) so it can be passed to the API as is.
 */
export function parseLabelSelector(variable: string, raw: string): string {
  const terms = splitList(variable, raw).map((term) => {
    const m = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
    const key = m?.[2]?.trim() ?? '';
    const op = m?.[3];
    const value = m?.[4]?.trim() ?? '';
    if (!m || !labelKey.test(key) || (op !== undefined && (m[1] === '!' || !labelValue.test(value)))) {
      throw new UsageError(variable, `${show(term)} is not a label selector term (key=value, key!=value, key or !key)`);
    }
    if (op === undefined) return `${m[1] ?? ''}${key}`;
    return `${key}${op === '!=' ? '!=' : '='}${value}`;
  });
  return terms.join(',');
}

/** `[app=web,tier=x]` → labels; `[web-0,web-1]` → names. */
export function parsePodSelector(variable: string, raw: string): PodSelector {
  const text = raw.trim();
  const inner = /^\[(.*)\]$/.exec(text)?.[1];
  if (inner === undefined || inner.trim() === '') {
    throw new UsageError(variable, `expected [<labels>] or [<names>] in brackets, got ${show(raw)}`);
  }
  if (/[=!]/.test(inner)) return { kind: 'labels', labels: parseLabelSelector(variable, inner) };
  return { kind: 'names', names: [...new Set(splitList(variable, inner).map((n) => parseObjectName(variable, n)))] };
}

function splitEntries(variable: string, raw: string): string[] {
  const text = raw.trim().replace(/;\s*$/, '');
  if (text === '') return [];
  return splitList(variable, text, ';');
}

/**
 * TARGETS: `<kind>:<namespace>:[<labels>|<names>]` entries separated by ';'. `[]` is what the chaos-operator
 * passes when the engine's appinfo has only `appns`: every pod of that kind in the namespace (litmus-go getTargets).
 */
export function parseTargets(variable: string, raw: string): TargetSelector[] {
  return splitEntries(variable, raw).map((entry) => {
    const m = /^([^:]*):([^:]*):(\[.*\])$/.exec(entry);
    if (!m) throw new UsageError(variable, `${show(entry)} is not <kind>:<namespace>:[<labels>|<names>], e.g. deployment:shop:[app=frontend]`);
    const pods = (m[3] ?? '').replace(/\s/g, '') === '[]' ? { kind: 'all' as const } : parsePodSelector(variable, m[3] ?? '');
    return { kind: parseKind(variable, m[1] ?? ''), namespace: parseNamespace(variable, m[2] ?? ''), pods };
  });
}

export function parseKind(variable: string, raw: string): WorkloadKind {
  const text = raw.trim().toLowerCase();
  if (text === '') return 'any';
  const found = workloadKinds.find((k) => k === text);
  if (!found) throw new UsageError(variable, `unknown kind ${show(raw)}; use one of ${workloadKinds.join(', ')}`);
  return found;
}

function parsePorts(variable: string, texts: readonly string[], raw: string): number[] {
  if (texts.some((p) => p.trim() === '')) throw new UsageError(variable, `empty port in ${show(raw)}`);
  return [...new Set(texts.map((p) => parsePort(variable, p)))].sort((a, b) => a - b);
}

/** DESTINATION_PODS: `<namespace>:[<labels>|<names>]` (+ `|port…`) entries separated by ';'. */
export function parsePodDestinations(variable: string, raw: string): PodDestination[] {
  return splitEntries(variable, raw).map((entry) => {
    const m = /^([^:[]*):(\[[^\]]*\])((?:\|[^|]*)*)$/.exec(entry);
    if (!m) throw new UsageError(variable, `${show(entry)} is not <namespace>:[<labels>|<names>] with optional |<port>, e.g. shop:[app=db]|5432`);
    const portTexts = (m[3] ?? '').split('|').slice(1);
    return { namespace: parseNamespace(variable, m[1] ?? ''), pods: parsePodSelector(variable, m[2] ?? ''), ports: parsePorts(variable, portTexts, entry) };
  });
}

/** DESTINATION_SERVICES: `<namespace>/<name>` (+ `|port…` by number or name), comma-separated. */
export function parseServiceDestinations(variable: string, raw: string): ServiceDestination[] {
  if (raw.trim() === '') return [];
  return splitList(variable, raw.trim()).map((entry) => {
    const [ref = '', ...portTexts] = entry.split('|').map((s) => s.trim());
    const slash = ref.indexOf('/');
    if (slash === -1) throw new UsageError(variable, `${show(entry)}: name the Service as <namespace>/<name>, e.g. shop/db`);
    const namespace = parseNamespace(variable, ref.slice(0, slash));
    const name = parseNamespace(variable, ref.slice(slash + 1));
    const ports = portTexts.map((p): number | string => {
      if (/^\d+$/.test(p)) return parsePort(variable, p);
      if (/^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/.test(p)) return p;
      throw new UsageError(variable, `${show(p)} in ${show(entry)} is neither a port number nor a port name`);
    });
    return { namespace, name, ports: [...new Set(ports)] };
  });
}

const hostname = /^(?=.{1,253}\.?$)([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9])?)*\.?$/;

/** DESTINATION_HOSTS: `host|port|port`, comma-separated (litmus-go's format). */
export function parseHostDestinations(variable: string, raw: string): HostDestination[] {
  if (raw.trim() === '') return [];
  return splitList(variable, raw.trim()).map((entry) => {
    const [host = '', ...portTexts] = entry.split('|').map((s) => s.trim());
    if (!hostname.test(host) || /^[\d.]+$/.test(host)) {
      throw new UsageError(variable, `${show(host)} is not a hostname (IP addresses go in DESTINATION_IPS)`);
    }
    return { host: host.toLowerCase(), ports: parsePorts(variable, portTexts, entry) };
  });
}
