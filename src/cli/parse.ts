/** Option value parsers shared by the client commands. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

/** Commander reducer for repeatable options: `--attr a=1 --attr b=2`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of at least 0');
  return n;
}

/** `k=v` pairs into a record; the value may contain `=`. */
export function keyValues(pairs: readonly string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`${what} ${JSON.stringify(pair)}: expected key=value`, EXIT.usage);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `k=pattern` pairs into a record of pattern lists (webhook filters: several patterns per key). */
export function keyLists(pairs: readonly string[] | undefined, what: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`${what} ${JSON.stringify(pair)}: expected key=pattern`, EXIT.usage);
    const key = pair.slice(0, eq);
    (out[key] ??= []).push(...pair.slice(eq + 1).split(',').filter((p) => p !== ''));
  }
  return out;
}

/** The text of `-` (stdin) or a file; unreadable input is exit code 6. */
export function readInput(source: string, what: string): string {
  try {
    return readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    throw new CliError(`${what}: cannot read ${source === '-' ? 'stdin' : source}: ${(error as Error).message}`, EXIT.invalidInput);
  }
}

/** A JSON value given inline, as `@file`, or `-` for stdin. */
export function jsonArgument(value: string, what: string): unknown {
  const text = value === '-' ? readInput('-', what) : value.startsWith('@') ? readInput(value.slice(1), what) : value;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${what} is not valid JSON: ${(error as Error).message}`, EXIT.invalidInput);
  }
}

const UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time: an ISO 8601 time, `now`, or a duration ago (`90s`, `30m`, `2h`, `7d`, `1w`).
 * Returns an ISO string.
 */
export function pointInTime(value: string, now = Date.now()): string {
  const text = value.trim();
  if (text === 'now') return new Date(now).toISOString();
  const ago = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * (UNITS_MS[ago[2] as string] as number)).toISOString();
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new InvalidArgumentError('expected an ISO time (2024-06-10T16:00:00Z), "now", or a duration ago (30m, 2h, 7d)');
  }
  return new Date(ms).toISOString();
}
