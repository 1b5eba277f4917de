/** Plain-text tables for the terminal (and markdown tables for the README). */

export interface TableOptions {
  /** Per column: 'l' (left) or 'r' (right). Default: first column left, the rest right. */
  align?: ('l' | 'r')[];
}

function widthOf(s: string): number {
  return [...s].length;
}

function pad(s: string, width: number, align: 'l' | 'r'): string {
  const fill = ' '.repeat(Math.max(0, width - widthOf(s)));
  return align === 'l' ? s + fill : fill + s;
}

function alignments(n: number, opts: TableOptions): ('l' | 'r')[] {
  return Array.from({ length: n }, (_, i) => opts.align?.[i] ?? (i === 0 ? 'l' : 'r'));
}

/** Columns padded to their widest cell, a rule under the header. */
export function renderTable(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const n = headers.length;
  const align = alignments(n, opts);
  const widths = headers.map((h, i) => Math.max(widthOf(h), ...rows.map((r) => widthOf(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c ?? '', widths[i]!, align[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** The same table as GitHub markdown. */
export function renderMarkdownTable(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const align = alignments(headers.length, opts);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const head = `| ${headers.map(esc).join(' | ')} |`;
  const rule = `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`;
  return (
    [head, rule, ...rows.map((r) => `| ${headers.map((_, i) => esc(r[i] ?? '')).join(' | ')} |`)].join('\n') + '\n'
  );
}
