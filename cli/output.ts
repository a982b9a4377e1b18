/** Output shared by the commands. */
export { canonicalJson } from '../forensics/canonical-json';

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Rows as aligned columns under upper-case headings (no trailing spaces); `empty` when there are no rows. */
export function table(headings: string[], rows: (string | undefined)[][], empty = '(none)'): string {
  if (rows.length === 0) return empty;
  const cells = [headings.map((h) => h.toUpperCase()), ...rows.map((r) => r.map((c) => c ?? '-'))];
  const widths = headings.map((_h, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(i === r.length - 1 ? 0 : widths[i])).join('  ')).join('\n');
}

/** A value as one line of JSON, cut at `max` characters. */
export function compact(value: unknown, max = 160): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** An ISO time as `YYYY-MM-DD HH:MM:SSZ` (UTC: what the logs and AWS show). */
export function when(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}
