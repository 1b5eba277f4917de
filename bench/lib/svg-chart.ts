/**
 * Line charts as SVG, written as plain strings: axes with ticks, one polyline per series, a legend.
 * Used for the window x chunk sweep (throughput against requests in flight, one line per chunk size,
 * the spread of the runs behind each point as a bar, and the raw channel as a dashed reference).
 */

export interface ChartPoint {
  x: number;
  y: number;
  /** The spread of the runs behind y (lowest and highest), drawn as a vertical bar. */
  lo?: number;
  hi?: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** 'log2' spaces x values like 1, 2, 4, 8 evenly (all x must be > 0). Default 'linear'. */
  xScale?: 'linear' | 'log2';
  width?: number;
  height?: number;
  /** A horizontal reference line, e.g. the raw channel limit. */
  reference?: { y: number; label: string };
  /** A sentence under the title (wrapped), e.g. how to read the reference line. */
  note?: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Escape text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The smallest tick step used: below it a maximum is drawn as if it were this small (1e-300). */
export const MIN_TICK_STEP = 1e-300;

/**
 * "Nice" tick values covering [0, max]: steps of 1, 2 or 5 times a power of ten, about `target` of
 * them. Every answer is finite and strictly increasing, starts at 0 and ends at or above `max`.
 * Zero, a negative, NaN or an infinite max gives [0, 1]; a max below MIN_TICK_STEP (subnormals
 * included) gives [0, MIN_TICK_STEP]; near Number.MAX_VALUE, where no nice value above max is
 * finite, the last tick is max itself.
 */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const count = Number.isFinite(target) && target >= 1 ? Math.floor(target) : 5;
  const rough = Math.max(max / count, MIN_TICK_STEP);
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= rough * (1 - 1e-12)) ?? 10 * pow;
  // Ticks by index (no running sum), a bounded count whatever rounding does.
  const n = Math.max(1, Math.ceil(max / step));
  const ticks = [0];
  for (let i = 1; i <= n && i <= count + 2; i++) {
    const v = Number((i * step).toPrecision(12));
    if (!Number.isFinite(v) || v <= ticks[ticks.length - 1]!) break;
    ticks.push(v);
  }
  if (ticks.length < 2 || ticks[ticks.length - 1]! < max) ticks.push(max);
  return ticks;
}

/** Split text into lines of at most `width` characters at spaces (a longer word gets a line of its own). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function fmt(n: number): string {
  if (Number.isInteger(n) || n === 0) return String(n);
  if (Math.abs(n) < 0.01) return n.toPrecision(2);
  return n.toFixed(2).replace(/\.?0+$/, '');
}

/** Render a line chart as a complete SVG document. */
export function renderLineChart(opts: LineChartOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 420;
  const noteLines = opts.note ? wrapText(opts.note, Math.max(20, Math.floor((width - 40) / 6.2))) : [];
  const margin = { left: 70, right: 170, top: 40 + noteLines.length * 14, bottom: 55 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const log = opts.xScale === 'log2';

  const all = opts.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);
  if (log && xs.some((x) => x <= 0)) throw new Error('log2 x scale needs x > 0');
  const tx = (x: number) => (log ? Math.log2(x) : x);
  const xMin = xs.length ? tx(xs[0]!) : 0;
  const xMax = xs.length ? tx(xs[xs.length - 1]!) : 1;
  const xSpan = xMax - xMin || 1;
  const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
  const yMaxData = Math.max(
    0,
    ...all.map((p) => p.y),
    ...all.map((p) => p.hi).filter(finite),
    finite(opts.reference?.y) ? opts.reference!.y : 0,
  );
  const yTicks = niceTicks(yMaxData * 1.05 || 1);
  const yMax = yTicks[yTicks.length - 1]!;

  const px = (x: number) => margin.left + ((tx(x) - xMin) / xSpan) * plotW;
  const py = (y: number) => margin.top + plotH - (y / yMax) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`,
  );
  noteLines.forEach((line, i) =>
    out.push(
      `<text class="note" x="${width / 2}" y="${40 + i * 14}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(line)}</text>`,
    ),
  );

  // Grid and y ticks.
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    out.push(`<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
  }
  // x ticks: the x values that occur in the data.
  for (const x of xs) {
    const X = px(x).toFixed(1);
    out.push(`<line x1="${X}" y1="${margin.top + plotH}" x2="${X}" y2="${margin.top + plotH + 5}" stroke="#333"/>`);
    out.push(`<text x="${X}" y="${margin.top + plotH + 18}" text-anchor="middle">${fmt(x)}</text>`);
  }
  // Axes.
  out.push(
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#333"/>`,
  );
  out.push(
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#333"/>`,
  );
  out.push(
    `<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
  );
  out.push(
    `<text x="16" y="${margin.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${margin.top + plotH / 2})">${escapeXml(opts.yLabel)}</text>`,
  );

  if (opts.reference && Number.isFinite(opts.reference.y)) {
    const y = py(opts.reference.y).toFixed(1);
    out.push(
      `<line class="reference" x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#555" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text x="${margin.left + plotW - 4}" y="${Number(y) - 5}" text-anchor="end" fill="#555">${escapeXml(opts.reference.label)}</text>`,
    );
  }

  opts.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (pts.length > 0) {
      const d = pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
      out.push(
        `<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="2" points="${d}"/>`,
      );
      for (const p of pts) {
        if (finite(p.lo) && finite(p.hi) && p.hi > p.lo) {
          out.push(
            `<line class="spread" x1="${px(p.x).toFixed(1)}" y1="${py(Math.max(0, p.lo)).toFixed(1)}" x2="${px(p.x).toFixed(1)}" y2="${py(p.hi).toFixed(1)}" stroke="${color}" stroke-opacity="0.5" stroke-width="6"/>`,
          );
        }
        out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
      }
    }
    const ly = margin.top + 10 + i * 20;
    const lx = margin.left + plotW + 15;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
