import { HeraldError } from '../errors.js';
import type { Page, PageRequest } from '../store/repositories/page.js';

/** Cursors are opaque to clients: the sort key of the last row, base64url-encoded. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function pageRequest(query: { limit?: number; cursor?: string }): PageRequest {
  let after: string | null = null;
  if (query.cursor !== undefined && query.cursor !== '') {
    after = Buffer.from(query.cursor, 'base64url').toString('utf8');
    // A cursor this API made re-encodes to itself, and never holds a NUL (PostgreSQL text cannot).
    if (after === '' || after.includes('\u0000') || encodeCursor(after) !== query.cursor) {
      throw new HeraldError(400, 'invalid_cursor', 'cursor is not one this API returned');
    }
  }
  return { limit: query.limit ?? 50, after };
}

export function pageBody<T, U>(page: Page<T>, map: (item: T) => U): { data: U[]; nextCursor: string | null } {
  return { data: page.items.map(map), nextCursor: page.next === null ? null : encodeCursor(page.next) };
}
