/** Small statistics and unit helpers for bench results: medians, rates, ratios, formatting. */

export const MiB = 1024 * 1024;

/** The median of a list of numbers (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The value below which a fraction `p` (0..1) of the values lie (nearest rank); the list must not be empty. */
export function percentile(values: readonly number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor(p * v.length))]!;
}

/** The smallest and largest finite values, or [NaN, NaN] when there are none. */
export function range(values: readonly number[]): [number, number] {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return [NaN, NaN];
  return [Math.min(...v), Math.max(...v)];
}

/** Bytes per second as MiB/s. */
export function mibPerSecond(bytes: number, seconds: number): number {
  return seconds > 0 ? bytes / MiB / seconds : NaN;
}

/** Items per second. */
export function perSecond(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : NaN;
}

/** a / b, NaN when either is missing or b is zero. */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** A number with a sensible count of digits for a table: 1234, 123, 12.3, 1.23, 0.123. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(2);
}

/** A whole count with thousands separators: 50, 5,000, 100,000. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

/** A ratio as a multiplier, e.g. "2.5x", or as a percentage of a limit, e.g. "93%". */
export function formatRatio(r: number, style: 'times' | 'percent' = 'times'): string {
  if (!Number.isFinite(r)) return '-';
  if (style === 'percent') return `${Math.round(r * 100)}%`;
  return `${formatNumber(r)}x`;
}

/** Bytes in a short human form: 512 B, 4 KiB, 1.5 MiB, 256 MiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const s = Number.isInteger(v) ? String(v) : v.toFixed(1);
  return `${s} ${units[u]}`;
}

/** Seconds (or milliseconds below one second) in a short human form. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 1) return `${formatNumber(seconds * 1000)} ms`;
  return `${formatNumber(seconds)} s`;
}

/** Parse "4k", "256MiB", "1m", "32768" into bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`not a size: ${JSON.stringify(text)} (e.g. 4k, 32m, 256MiB)`);
  const mult = { '': 1, k: 1024, m: MiB, g: 1024 * MiB }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const value = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`size out of range: ${text}`);
  return value;
}
