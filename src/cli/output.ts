/**
 * How commands print: JSON (the API's answer, 2-space indented) or tables for people.
 * JSON when `--json` is given or stdout is not a terminal (pipes, files, scripts); tables when
 * `--no-json` is given or stdout is a terminal.
 */
export interface OutputFlags {
  /** true: --json, false: --no-json, undefined: decide by the terminal. */
  json?: boolean;
}

export function wantsJson(flags: OutputFlags, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return flags.json ?? stdout.isTTY !== true;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One JSON document per line (streams: `herald listen`). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function println(line = ''): void {
  process.stdout.write(`${line}\n`);
}

const useColor = (stream: { isTTY?: boolean }): boolean => stream.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';

function paint(code: number, text: string, stream: { isTTY?: boolean } = process.stdout): string {
  return useColor(stream) ? `\x1b[${code}m${text}\x1b[0m` : text;
}

export const color = {
  green: (text: string, stream?: { isTTY?: boolean }) => paint(32, text, stream),
  red: (text: string, stream?: { isTTY?: boolean }) => paint(31, text, stream),
  yellow: (text: string, stream?: { isTTY?: boolean }) => paint(33, text, stream),
  dim: (text: string, stream?: { isTTY?: boolean }) => paint(2, text, stream),
  bold: (text: string, stream?: { isTTY?: boolean }) => paint(1, text, stream),
};

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const visibleLength = (text: string): number => [...text.replace(ANSI, '')].length;

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** A text table: a header row, then one row per item; cells longer than `maxCell` are cut. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], maxCell = 60): string {
  const cells = rows.map((row) => row.map((cell) => truncate(cell.replace(/\s+/g, ' '), maxCell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => visibleLength(row[i] ?? ''))));
  const line = (row: readonly string[], style: (s: string) => string = (s) => s) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
      .map((cell) => style(cell))
      .join('  ')
      .trimEnd();
  return [line(headers, (s) => color.bold(s)), ...cells.map((row) => line(row))].join('\n');
}

export function printTable(headers: readonly string[], rows: readonly (readonly string[])[], empty = '(none)'): void {
  if (rows.length === 0) println(color.dim(empty));
  else println(formatTable(headers, rows));
}

/** Aligned `key  value` lines. */
export function printFields(fields: readonly (readonly [string, string])[]): void {
  const width = Math.max(...fields.map(([key]) => key.length));
  for (const [key, value] of fields) println(`${color.dim(key.padEnd(width))}  ${value}`);
}

/** A time for tables: `2024-06-10 16:00:00` (UTC, no milliseconds), or `-`. */
export function shortTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, '');
}

/** A hint about more pages, on stderr so it never mixes into the table. */
export function printMore(nextCursor: string | null): void {
  if (nextCursor !== null) process.stderr.write(`${color.dim(`more: --cursor ${nextCursor} (or --all)`, process.stderr)}\n`);
}
