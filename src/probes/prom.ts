/**
 * promProbe (litmus-go pkg/probe/promProbe.go): an instant query to the Prometheus at `endpoint`, whose one
 * value is compared as a float (CompareFloat) with the comparator. litmus-go runs the `promql` CLI
 * (`promql --host <endpoint> "<query>" --output csv`) through /bin/sh and reads the `value` column of its one
 * row; netchaos asks the same HTTP API the CLI asks, `GET <endpoint>/api/v1/query?query=…`, without a shell.
 * As litmus-go (extractValueFromMetrics): the query must give exactly one value (one series of an instant
 * vector, or a scalar); none or several is a probe *error* (PROM_PROBE_ERROR), as is a Prometheus that
 * cannot be reached or refuses the query; a value that does not satisfy the comparator is a *failure*.
 */
import { compare } from './comparator.js';
import { httpExchange } from './http.js';
import { type Outcome, fail, messageOf, pass, probeError } from './outcome.js';
import type { PromProbeSpec } from './spec.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `<endpoint>/api/v1/query?query=…` (the endpoint may carry a path prefix, e.g. behind a proxy). */
export function queryUrl(endpoint: string, query: string): string {
  const url = new URL(endpoint);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.search = new URLSearchParams({ query }).toString();
  return url.href;
}

/** The one value of an instant query's answer, or why there is not exactly one. */
export function valueOf(answer: unknown): { value: string; series: string } | { problem: string } {
  if (!isRecord(answer)) return { problem: 'the answer is not a JSON object' };
  if (answer['status'] !== 'success') {
    return { problem: `Prometheus answered ${String(answer['status'])}: ${typeof answer['errorType'] === 'string' ? `${answer['errorType']}: ` : ''}${typeof answer['error'] === 'string' ? answer['error'] : 'no error text'}` };
  }
  const data = answer['data'];
  if (!isRecord(data)) return { problem: 'the answer has no data' };
  const type = data['resultType'];
  const result = data['result'];
  const sampleValue = (sample: unknown): string | undefined => (Array.isArray(sample) && typeof sample[1] === 'string' ? sample[1] : undefined);
  if (type === 'scalar') {
    const v = sampleValue(result);
    return v === undefined ? { problem: 'the scalar answer has no value' } : { value: v, series: 'scalar' };
  }
  if (type === 'vector') {
    if (!Array.isArray(result)) return { problem: 'the vector answer has no result list' };
    if (result.length === 0) return { problem: 'the query returned no series (litmus-go: "metrics doesn\'t contains required values"); a promProbe needs exactly one value' };
    if (result.length > 1) return { problem: `the query returned ${result.length} series (litmus-go: "metrics entries can't be more than two"); aggregate it (sum, max, …) to one value` };
    const one: unknown = result[0];
    const v = isRecord(one) ? sampleValue(one['value']) : undefined;
    if (v === undefined) return { problem: 'the series has no value' };
    const metric = isRecord(one) && isRecord(one['metric']) ? one['metric'] : {};
    const labels = Object.entries(metric).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join(', ');
    return { value: v, series: `{${labels}}` };
  }
  if (type === 'matrix') return { problem: 'the query returned a range vector; a promProbe needs an instant value (drop the [range] or wrap it in a function such as rate())' };
  return { problem: `the query returned a ${String(type)}, not a number` };
}

/** One promProbe attempt. Throws the AbortError when `signal` aborts. */
export async function promAttempt(p: PromProbeSpec, signal: AbortSignal): Promise<Outcome> {
  let url: string;
  try {
    url = queryUrl(p.endpoint, p.query);
  } catch (error) {
    return probeError('promProbe', `endpoint ${JSON.stringify(p.endpoint)}: ${messageOf(error)}`);
  }
  let status: number;
  let body: string;
  try {
    const answer = await httpExchange({ method: 'GET', url, signal, readBodyLimit: 8 * 1024 * 1024 });
    status = answer.status;
    body = answer.body;
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') throw error;
    return probeError('promProbe', `cannot query Prometheus at ${p.endpoint}: ${messageOf(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return probeError('promProbe', `Prometheus at ${p.endpoint} answered HTTP ${status} with something that is not JSON: ${body.slice(0, 200)}`);
  }
  const v = valueOf(parsed);
  if ('problem' in v) return probeError('promProbe', `query ${JSON.stringify(p.query)} at ${p.endpoint}: ${v.problem}`);
  const c = compare(p.comparator, v.value);
  const evaluation = { actual: v.value, expected: p.comparator.value, criteria: p.comparator.criteria };
  if (!c.ok) return fail('promProbe', `query ${JSON.stringify(p.query)} ${v.series}: ${c.reason}`, evaluation);
  return pass(`Obtained the specified prometheus metrics. Actual value: ${v.value}. Expected value: ${p.comparator.criteria} ${p.comparator.value}`, evaluation);
}
