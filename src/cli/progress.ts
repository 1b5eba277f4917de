/**
 * The CLI's progress display: on a terminal, one line redrawn in place (at most every `interval` ms)
 * with bytes, percent, rate and ETA (and files for trees); elsewhere nothing until the summary line.
 */

/** Where the display goes: process.stderr, or anything shaped like it. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface ProgressState {
  label: string;
  bytes: number;
  total?: number;
  files?: number;
  totalFiles?: number;
  /** Bytes per second, when known. */
  rate?: number;
}

const KIB = 1024;
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 512 B, 12.0 KiB, 1.50 MiB: three significant digits or so. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= KIB && u < UNITS.length - 1) {
    v /= KIB;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[u]}`;
}

/** 512 B/s, 12.0 KiB/s, 85.3 MiB/s: the unit follows the figure; '-- B/s' when not a finite rate. */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return '-- B/s';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** "1 file", "2 files": a count and its noun, plural unless one. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** m:ss or h:mm:ss; '--:--' when unknown or absurd. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || seconds > 99 * 3600) return '--:--';
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The text of one progress line, at most `columns - 1` characters (the label is shortened first). */
export function renderProgress(st: ProgressState, columns = 80): string {
  const parts: string[] = [];
  if (st.files !== undefined)
    parts.push(st.totalFiles !== undefined ? `${st.files}/${plural(st.totalFiles, 'file')}` : plural(st.files, 'file'));
  if (st.total !== undefined && st.total > 0) {
    parts.push(`${Math.min(100, Math.floor((st.bytes / st.total) * 100))}%`);
    parts.push(`${formatBytes(st.bytes)} / ${formatBytes(st.total)}`);
  } else parts.push(formatBytes(st.bytes));
  parts.push(st.rate !== undefined ? formatRate(st.rate) : '-- B/s');
  if (st.total !== undefined) {
    const left = Math.max(0, st.total - st.bytes);
    parts.push(`ETA ${formatEta(left === 0 ? 0 : st.rate ? left / st.rate : undefined)}`);
  }
  const tail = parts.join('  ');
  const width = Math.max(1, columns - 1);
  const room = width - tail.length - 2;
  if (room <= 0) return tail.slice(0, width);
  let label = st.label;
  if (label.length > room) label = room > 3 ? `...${label.slice(label.length - (room - 3))}` : label.slice(0, room);
  return `${label}  ${tail}`;
}

export interface ProgressOptions {
  label: string;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** No live line and no summary. */
  quiet?: boolean;
  /** Milliseconds between redraws at most (default 100). */
  interval?: number;
  /** A clock in milliseconds (default performance.now). */
  now?: () => number;
}

export interface ProgressUpdate {
  bytes: number;
  total?: number;
  files?: number;
  totalFiles?: number;
}

/** Seconds of history behind the rate shown. */
const RATE_WINDOW_MS = 3000;

/**
 * One transfer's display. `update()` may be called as often as the transfer likes (every acknowledged
 * chunk); the line is redrawn only when `interval` ms have passed since the last redraw. `finish()`
 * erases the line and prints the summary.
 */
export class ProgressDisplay {
  private readonly stream: ProgressStream;
  private readonly live: boolean;
  private readonly interval: number;
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = -Infinity;
  private drawn = false;
  private last: ProgressUpdate = { bytes: 0 };
  private samples: Array<{ t: number; bytes: number }> = [];
  /** How many times the line was drawn (for tests). */
  draws = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.live = !opts.quiet && this.stream.isTTY === true;
    this.interval = opts.interval ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.started = this.now();
    this.samples.push({ t: this.started, bytes: 0 });
  }

  /** Seconds since the display was made. */
  get elapsed(): number {
    return (this.now() - this.started) / 1000;
  }

  update(p: ProgressUpdate): void {
    const before = this.last;
    this.last = p;
    if (!this.live) return;
    const t = this.now();
    // Totals that just became known are shown at once, not at the next redraw.
    const newTotals =
      (p.totalFiles !== undefined && before.totalFiles === undefined) ||
      (p.total !== undefined && before.total === undefined);
    if (t - this.lastDraw < this.interval && !newTotals) return;
    this.lastDraw = t;
    this.samples.push({ t, bytes: p.bytes });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    // a span shorter than the clock can time well would give an absurd figure: no rate yet
    const rate = t - first.t >= RATE_MIN_SECONDS * 1000 ? ((p.bytes - first.bytes) * 1000) / (t - first.t) : undefined;
    const line = renderProgress({ label: this.opts.label, ...p, rate }, this.stream.columns || 80); // a pty may report 0 columns
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
    this.draws++;
  }

  /** The latest update. */
  get current(): ProgressUpdate {
    return this.last;
  }

  /** Erase the live line (if drawn) and write `summary` (a line; nothing when quiet). */
  finish(summary?: string): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
    if (summary !== undefined && !this.opts.quiet) this.stream.write(summary.endsWith('\n') ? summary : `${summary}\n`);
  }
}

/** Below this the clock says little about the rate: a summary gives none. */
const RATE_MIN_SECONDS = 0.01;

/**
 * "N bytes in X s (Y MiB/s)" for a summary line; "N bytes in <0.01 s" (no rate) for a transfer too
 * quick to time, rather than an absurd figure.
 */
export function rateSummary(bytes: number, seconds: number): string {
  const count = plural(bytes, 'byte');
  if (!(seconds >= RATE_MIN_SECONDS)) return `${count} in <${RATE_MIN_SECONDS} s`;
  return `${count} in ${seconds.toFixed(2)} s (${formatRate(bytes / seconds)})`;
}
