/**
 * What a kube-apiserver answers when it refuses a request: the metav1.Status objects of
 * k8s.io/apimachinery/pkg/api/errors/errors.go (NewNotFound, NewAlreadyExists, NewConflict, NewInvalid,
 * NewForbidden, NewResourceExpired, NewBadRequest, NewInternalError…) and the field errors of
 * k8s.io/apimachinery/pkg/util/validation/field/errors.go, with their messages built the same way, plus the
 * few answers that are not a Status at all (the mux's plain "404 page not found", the max-in-flight/APF
 * filter's plain-text 429 with Retry-After).
 */

/** field.ErrorType (the cause `reason` of a 422). */
export type FieldErrorType =
  | 'FieldValueNotFound' | 'FieldValueRequired' | 'FieldValueDuplicate' | 'FieldValueInvalid'
  | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid' | 'InternalError';

const typeText: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found', FieldValueRequired: 'Required value', FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value', FieldValueNotSupported: 'Unsupported value', FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long', FieldValueTooMany: 'Too many', FieldValueTypeInvalid: 'Invalid value', InternalError: 'Internal error',
};

/** One field.Error: `field` is the path as the apiserver prints it (`spec.containers[0].name`). */
export interface FieldError {
  readonly type: FieldErrorType;
  readonly field: string;
  /** The offending value (omitted from the message for Required, Forbidden, TooLong, Internal). */
  readonly value?: unknown;
  readonly detail?: string;
}

/** Go's %v / %q rendering of a bad value, as field.Error.ErrorBody does it. */
function goValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** field.Error.ErrorBody: the message without the field path. */
export function errorBody(e: FieldError): string {
  const plain = e.type === 'FieldValueRequired' || e.type === 'FieldValueForbidden' || e.type === 'FieldValueTooLong' || e.type === 'InternalError';
  let s = plain ? typeText[e.type] : `${typeText[e.type]}: ${goValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
export const invalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
export const notSupported = (field: string, value: unknown, valid: readonly string[]): FieldError =>
  ({ type: 'FieldValueNotSupported', field, value, detail: valid.length ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : '' });
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
export const notFoundField = (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, value });
export const tooLong = (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `must have at most ${max} bytes` });
export const typeInvalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, value, detail });

/** A `schema.GroupResource` or `GroupKind` printed as the apiserver does: `pods`, `chaosresults.litmuschaos.io`. */
export const qualified = (name: string, group: string): string => (group ? `${name}.${group}` : name);

/** A metav1.Status with an HTTP code (and the headers that go with it). */
export interface StatusAnswer {
  readonly code: number;
  readonly body: Record<string, unknown> | string;
  readonly headers?: Readonly<Record<string, string>>;
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): StatusAnswer {
  // Empty detail fields are omitted (`omitempty`), as the apiserver's JSON encoder does.
  const d = details ? Object.fromEntries(Object.entries(details).filter(([, v]) => v !== '' && v !== undefined && v !== 0)) : undefined;
  return {
    code,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(d && Object.keys(d).length ? { details: d } : {}), code },
  };
}

export const notFound = (resource: string, group: string, name: string): StatusAnswer =>
  status(404, 'NotFound', `${qualified(resource, group)} ${JSON.stringify(name)} not found`, { name, group, kind: resource });

export const alreadyExists = (resource: string, group: string, name: string): StatusAnswer =>
  status(409, 'AlreadyExists', `${qualified(resource, group)} ${JSON.stringify(name)} already exists`, { name, group, kind: resource });

export const conflict = (resource: string, group: string, name: string, why: string): StatusAnswer =>
  status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} ${JSON.stringify(name)}: ${why}`, { name, group, kind: resource });

/** errors.NewInvalid: one cause per field error; the message lists them (in brackets when more than one). */
export function invalidObject(kind: string, group: string, name: string, errs: readonly FieldError[]): StatusAnswer {
  const seen = new Set<string>();
  const texts: string[] = [];
  for (const e of errs) {
    const t = `${e.field}: ${errorBody(e)}`;
    if (!seen.has(t)) { seen.add(t); texts.push(t); }
  }
  const agg = texts.length === 1 ? texts[0]! : `[${texts.join(', ')}]`;
  const answer = status(422, 'Invalid', `${qualified(kind, group)} ${JSON.stringify(name)} is invalid: ${agg}`, { name, group, kind });
  const body = answer.body as Record<string, unknown>;
  body['details'] = { ...(body['details'] as object), causes: errs.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })) };
  return answer;
}

/**
 * What the authorization filter answers (responsewriters.Forbidden → errors.NewForbidden): `pods "x" is
 * forbidden: User "…" cannot get resource "pods" in API group "" in the namespace "ns"`, `: <reason>` appended
 * when the authorizer gave one.
 */
export function forbiddenRequest(o: { user: string; verb: string; resource: string; subresource?: string; group: string; namespace: string | undefined; name: string | undefined; reason?: string }): StatusAnswer {
  const res = o.subresource ? `${o.resource}/${o.subresource}` : o.resource;
  const where = o.namespace ? `in the namespace ${JSON.stringify(o.namespace)}` : 'at the cluster scope';
  const why = `User ${JSON.stringify(o.user)} cannot ${o.verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(o.group)} ${where}${o.reason ? `: ${o.reason}` : ''}`;
  return admissionForbidden(o.resource, o.group, o.name ?? '', why);
}

/** errors.NewForbidden as admission plugins use it (e.g. the ServiceAccount plugin). */
export function admissionForbidden(resource: string, group: string, name: string, why: string): StatusAnswer {
  const what = qualified(resource, group);
  return status(403, 'Forbidden', name ? `${what} ${JSON.stringify(name)} is forbidden: ${why}` : `${what} is forbidden: ${why}`, { name, group, kind: resource });
}

export const badRequest = (message: string): StatusAnswer => status(400, 'BadRequest', message);

export const unauthorized = (): StatusAnswer => status(401, 'Unauthorized', 'Unauthorized');

/** errors.NewResourceExpired (410): a list/watch resourceVersion older than what the storage still has. */
export const expired = (message: string): StatusAnswer => status(410, 'Expired', message);

export const internalError = (cause: string): StatusAnswer => {
  const answer = status(500, 'InternalError', `Internal error occurred: ${cause}`);
  (answer.body as Record<string, unknown>)['details'] = { causes: [{ message: cause }] };
  return answer;
};

export const methodNotSupported = (resource: string, group: string, action: string): StatusAnswer =>
  status(405, 'MethodNotAllowed', `${action} is not supported on resources of kind ${JSON.stringify(qualified(resource, group))}`, { group, kind: resource });

export const unsupportedMediaType = (contentType: string): StatusAnswer =>
  status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType})`);

/** The mux's answer for a path no API group serves (an unknown group, version or resource): not a Status. */
export const pageNotFound = (): StatusAnswer => ({ code: 404, body: '404 page not found\n', headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' } });

/**
 * The max-in-flight / API Priority and Fairness filters' rejection (filters.tooManyRequests): plain text and a
 * Retry-After header, no Status.
 */
export const tooManyRequests = (retryAfterSeconds = 1): StatusAnswer => ({
  code: 429, body: 'Too many requests, please try again later.\n',
  headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'retry-after': String(retryAfterSeconds) },
});
