/**
 * Go duration strings, with the semantics of Go's `time.ParseDuration` (litmus-go parses every probe
 * runProperty with it: pkg/types/types.go parseProbeTimeouts): a sign, then one or more decimal numbers,
 * each with an optional fraction and a unit among ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h —
 * "300ms", "-1.5h", "2h45m", "1.5us". "0" alone needs no unit. The result must fit in an int64 of
 * nanoseconds. Integers are exact (BigInt); a fraction is scaled through a float64 as Go does, so
 * "0.3333333333333333333h" is 20m exactly, as in Go.
 */

/** A duration string Go would refuse; the message is Go's. */
export class GoDurationError extends Error {
  override readonly name = 'GoDurationError';
}

const NS_PER: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX = (1n << 63n) - 1n;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Nanoseconds, as Go's time.ParseDuration returns them. Throws GoDurationError. */
export function parseGoDuration(text: string): bigint {
  const quoted = JSON.stringify(text);
  const invalid = (): GoDurationError => new GoDurationError(`time: invalid duration ${quoted}`);
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();
    let i = 0;
    while (isDigit(s[i])) i++;
    const intDigits = s.slice(0, i);
    s = s.slice(i);
    let fracDigits = '';
    if (s.startsWith('.')) {
      s = s.slice(1);
      let j = 0;
      while (isDigit(s[j])) j++;
      fracDigits = s.slice(0, j);
      s = s.slice(j);
    }
    if (intDigits === '' && fracDigits === '') throw invalid(); // "." or ".s"
    let u = 0;
    while (u < s.length && s[u] !== '.' && !isDigit(s[u])) u++;
    if (u === 0) throw new GoDurationError(`time: missing unit in duration ${quoted}`);
    const unitText = s.slice(0, u);
    s = s.slice(u);
    const unit = NS_PER[unitText];
    if (unit === undefined) throw new GoDurationError(`time: unknown unit ${JSON.stringify(unitText)} in duration ${quoted}`);
    const whole = BigInt(intDigits === '' ? '0' : intDigits);
    if (whole > (1n << 63n) / unit) throw invalid();
    let v = whole * unit;
    if (fracDigits !== '') {
      // As Go: the fraction's digits while they fit in an int64, scaled through a float64
      let f = 0n;
      let scale = 1;
      for (const d of fracDigits) {
        const next = f * 10n + BigInt(d);
        if (f > MAX / 10n || next > 1n << 63n) break;
        f = next;
        scale *= 10;
      }
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > 1n << 63n) throw invalid();
    }
    total += v;
    if (total > MAX + 1n) throw invalid();
  }
  if (negative) return -total;
  if (total > MAX) throw invalid();
  return total;
}

/** Nanoseconds → milliseconds (fractional below 1 ms), for timers. */
export function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

/** Milliseconds as Go prints a Duration: "1h2m3.5s", "300ms", "1.5µs", "0s". */
export function formatDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  if (ns < 0n) ns = -ns;
  const frac = (value: bigint, unit: bigint): string => {
    const whole = value / unit;
    const rest = value % unit;
    if (rest === 0n) return String(whole);
    const digits = String(unit).length - 1;
    return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
  };
  if (ns < 1_000n) return `${sign}${ns}ns`;
  if (ns < 1_000_000n) return `${sign}${frac(ns, 1_000n)}µs`;
  if (ns < 1_000_000_000n) return `${sign}${frac(ns, 1_000_000n)}ms`;
  const h = ns / 3_600_000_000_000n;
  const m = (ns / 60_000_000_000n) % 60n;
  const sec = frac(ns % 60_000_000_000n, 1_000_000_000n);
  if (h > 0n) return `${sign}${h}h${m}m${sec}s`;
  if (m > 0n) return `${sign}${m}m${sec}s`;
  return `${sign}${sec}s`;
}
