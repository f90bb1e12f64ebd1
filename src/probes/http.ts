/**
 * httpProbe (litmus-go pkg/probe/httpprobe.go): one GET or POST to the URL from the experiment pod's own
 * network namespace (this process), the final response code compared (CompareInt) with responseCode.
 * Like Go's http.Client: redirects are followed (at most 10; 301/302/303 turn a POST into a GET without
 * body, 307/308 repeat it), a 3xx without Location is the answer, the body is not read, and
 * probeTimeout bounds the whole exchange up to the response headers (http.Client.Timeout).
 * A timeout or a network error (refused, reset, unreachable, DNS) is a probe *failure*; anything else
 * (a TLS certificate that does not verify, too many redirects, a malformed answer) is a probe *error*
 * (pkg/utils/utils.go HttpTimeout/IsConnectionError decide the same in litmus-go).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { compare } from './comparator.js';
import { type Outcome, fail, messageOf, pass, probeError } from './outcome.js';
import type { HttpProbeSpec } from './spec.js';

export interface HttpAnswer {
  readonly status: number;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** The body, when asked for. */
  readonly body: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: string | undefined;
  readonly contentType?: string | undefined;
  readonly insecureSkipVerify?: boolean | undefined;
  /** Read the body (promProbe); httpProbe does not. At most this many bytes. */
  readonly readBodyLimit?: number | undefined;
  readonly signal: AbortSignal;
  readonly maxRedirects?: number | undefined;
}

/** A network-level problem (no HTTP answer): the kind litmus-go counts as a probe failure. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(message: string, readonly code: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Any other problem getting an answer (TLS verification, too many redirects, bad response). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
}

// Errors of the socket, the resolver or the route: Go's *net.OpError and the syscall errors
// litmus-go lists (ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EHOSTUNREACH, ECONNRESET, EPIPE).
const networkCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN',
  'EADDRNOTAVAIL', 'ECONNABORTED', 'ENETDOWN', 'EHOSTDOWN', 'ENONET', 'UND_ERR_SOCKET',
]);

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : '';
}

/** One request (no redirect handling). */
function once(method: string, url: URL, body: string | undefined, req: HttpRequest): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = body === undefined ? undefined : Buffer.from(body);
    const headers: Record<string, string | number> = { 'user-agent': 'netchaos-probe' };
    if (payload) {
      headers['content-length'] = payload.length;
      if (req.contentType) headers['content-type'] = req.contentType;
    }
    let r: ReturnType<typeof send>;
    try {
      r = send(url, { method, headers, agent: false, signal: req.signal, ...(url.protocol === 'https:' ? { rejectUnauthorized: req.insecureSkipVerify !== true } : {}) });
    } catch (error) {
      reject(new HttpError(`${method} ${url.href}: ${messageOf(error)}`));
      return;
    }
    r.on('error', (error) => {
      if (error.name === 'AbortError') { reject(error); return; }
      const code = codeOf(error);
      if (networkCodes.has(code)) reject(new NetworkError(`${method} ${url.href}: ${error.message}`, code, { cause: error }));
      else reject(new HttpError(`${method} ${url.href}: ${error.message}${code && !error.message.includes(code) ? ` (${code})` : ''}`, { cause: error }));
    });
    r.on('response', (res) => {
      const limit = req.readBodyLimit;
      if (limit === undefined) {
        res.destroy();
        resolve({ res, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) { res.destroy(); reject(new HttpError(`${method} ${url.href}: the answer is larger than ${limit} bytes`)); return; }
        chunks.push(c);
      });
      res.on('error', (error) => {
        if (error.name === 'AbortError') reject(error);
        else reject(new NetworkError(`${method} ${url.href}: the answer was cut: ${error.message}`, codeOf(error), { cause: error }));
      });
      res.on('end', () => { resolve({ res, body: Buffer.concat(chunks).toString('utf8') }); });
    });
    r.end(payload);
  });
}

/** A request as Go's http.Client sends it, redirects included. */
export async function httpExchange(req: HttpRequest): Promise<HttpAnswer> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new HttpError(`${JSON.stringify(req.url)} is not a URL`);
  }
  let method: string = req.method;
  let body = req.body;
  const max = req.maxRedirects ?? 10;
  for (let redirects = 0; ; redirects++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpError(`${method} ${url.href}: unsupported protocol scheme ${JSON.stringify(url.protocol.replace(/:$/, ''))}`);
    const { res, body: text } = await once(method, url, body, req);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    const redirect = [301, 302, 303, 307, 308].includes(status) && location !== undefined && location !== '';
    if (!redirect) return { status, url: url.href, headers: res.headers, body: text };
    if (redirects >= max) throw new HttpError(`${req.method} ${req.url}: stopped after ${max} redirects`);
    if (status === 301 || status === 302 || status === 303) {
      if (method !== 'GET' && method !== 'HEAD') { method = 'GET'; body = undefined; }
    }
    try {
      url = new URL(location, url);
    } catch {
      throw new HttpError(`${method} ${url.href}: bad Location ${JSON.stringify(location)} in the ${status} answer`);
    }
  }
}

/** One httpProbe attempt. Throws the AbortError when `signal` aborts (the caller knows why). */
export async function httpAttempt(p: HttpProbeSpec, url: string, signal: AbortSignal): Promise<Outcome> {
  const m = p.method;
  let answer: HttpAnswer;
  try {
    answer = await httpExchange({
      method: m.kind, url, signal, insecureSkipVerify: p.insecureSkipVerify,
      ...(m.kind === 'POST' ? { body: m.body, contentType: m.contentType } : {}),
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') throw error;
    if (error instanceof NetworkError) return fail('httpProbe', error.message);
    return probeError('httpProbe', messageOf(error));
  }
  const code = String(answer.status);
  const c = compare(m.comparator, code);
  const evaluation = { actual: code, expected: m.comparator.value, criteria: m.comparator.criteria };
  if (!c.ok) return fail('httpProbe', `${m.kind} ${url} answered ${code}. ${c.reason}`, evaluation);
  return pass(`The URL ${url} did respond with correct status code. Actual code: '${code}'. Expected code: ${m.comparator.criteria} '${m.comparator.value}'`, evaluation);
}
