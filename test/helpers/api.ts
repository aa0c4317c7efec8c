/**
 * Small assertions shared by the API contract tests: the one error shape, row
 * counts of every table (to show that a refused write wrote nothing), and a
 * page walker for cursor pagination.
 */
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import type { TestHerald } from './herald.js';

export interface ApiErrorBody {
  error: { code: string; message: string; details: unknown[] };
}

/** Asserts that `res` is an error answer with exactly `{error: {code, message, details: []}}` and returns it. */
export function expectApiError(
  res: { status: number; body: unknown; headers: Record<string, string | string[] | undefined> },
  status: number,
  code?: string,
): ApiErrorBody['error'] {
  const where = `answer ${res.status} ${JSON.stringify(res.body)}`;
  expect(res.status, where).toBe(status);
  expect(String(res.headers['content-type'] ?? ''), where).toMatch(/^application\/json/);
  expect(res.body, where).toBeTypeOf('object');
  expect(res.body, where).not.toBeNull();
  const body = res.body as Record<string, unknown>;
  expect(Object.keys(body), where).toEqual(['error']);
  const error = body.error as Record<string, unknown>;
  expect(Object.keys(error).sort(), where).toEqual(['code', 'details', 'message']);
  expect(error.code, where).toBeTypeOf('string');
  expect(error.code, where).toMatch(/^[a-z][a-z0-9_]*$/);
  expect(error.message, where).toBeTypeOf('string');
  expect((error.message as string).length, where).toBeGreaterThan(0);
  expect(Array.isArray(error.details), where).toBe(true);
  if (code !== undefined) expect(error.code, where).toBe(code);
  return error as ApiErrorBody['error'];
}

export const TABLES = ['organizations', 'event_types', 'webhooks', 'events', 'deliveries', 'attempts', 'idempotency_keys'] as const satisfies readonly (keyof Database)[];
export type RowCounts = Record<(typeof TABLES)[number], number>;

/** Counts the rows of every table Herald writes on behalf of API calls. */
export async function rowCounts(h: TestHerald): Promise<RowCounts> {
  const counts = {} as RowCounts;
  for (const table of TABLES) {
    const row = await h.herald.db
      .selectFrom(table)
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts;
}

/** Walks a list with `?limit=` and `?cursor=` until nextCursor is null; returns the pages. */
export async function walkPages<T>(h: TestHerald, path: string, limit: number, maxPages = 100): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const url: string = `${path}${separator}limit=${limit}${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res: { status: number; body: { data: T[]; nextCursor: string | null } } = await h.call('GET', url);
    expect(res.status, `GET ${url}: ${JSON.stringify(res.body)}`).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
    pages.push(res.body.data);
    cursor = res.body.nextCursor;
    if (pages.length > maxPages) throw new Error(`more than ${maxPages} pages from ${path}: the cursor does not advance`);
  } while (cursor !== null);
  return pages;
}
