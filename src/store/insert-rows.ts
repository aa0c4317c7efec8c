import { CompiledQuery, sql } from 'kysely';
import type { Database, Db } from './schema.js';

/**
 * Multi-row INSERTs written as text with one flat parameter array. Kysely's
 * insert builder makes several frozen objects per value; for an ingest batch
 * of thousands of deliveries that was most of the garbage, and the old
 * generation grew to hold it. Statements have a few fixed sizes, so both
 * the text here and SQLite's prepared statements are reused.
 */

/** Rows per statement at most: 14 columns x 256 rows stays under every bound-parameter limit. */
const MAX_ROWS = 256;

const texts = new Map<string, string>();

function statementText(table: string, columns: readonly string[], rows: number, numbered: boolean): string {
  const key = `${table}|${columns.join(',')}|${rows}|${numbered ? '$' : '?'}`;
  let text = texts.get(key);
  if (text === undefined) {
    const tuples: string[] = [];
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const marks: string[] = [];
      for (let c = 0; c < columns.length; c++) marks.push(numbered ? `$${++n}` : '?');
      tuples.push(`(${marks.join(', ')})`);
    }
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    texts.set(key, text);
  }
  return text;
}

/** Sizes a run of `count` rows is cut into: full statements, then powers of two. */
function chunkSizes(count: number): number[] {
  const sizes: number[] = [];
  let left = count;
  while (left >= MAX_ROWS) {
    sizes.push(MAX_ROWS);
    left -= MAX_ROWS;
  }
  for (let size = MAX_ROWS / 2; size >= 1; size /= 2) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

/**
 * Inserts `rows` (values in `columns` order) into `table`. Call inside a
 * transaction when the rows must land together.
 */
export async function insertRows<T extends keyof Database & string>(
  db: Db,
  table: T,
  columns: readonly (keyof Database[T] & string)[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  if (rows.length === 0) return;
  // PostgreSQL numbers its placeholders, SQLite does not; the dialect's own compiler says which.
  const numbered = sql`${0}`.compile(db).sql.startsWith('$');
  let at = 0;
  for (const size of chunkSizes(rows.length)) {
    const params: unknown[] = [];
    for (let r = at; r < at + size; r++) for (const value of rows[r]!) params.push(value);
    await db.executeQuery(CompiledQuery.raw(statementText(table, columns, size, numbered), params));
    at += size;
  }
}
