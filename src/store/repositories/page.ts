/** One page of a keyset-paginated list: `limit` rows and whether more follow. */
export interface Page<T> {
  items: T[];
  /** The sort key of the last item when more follow, else null. */
  next: string | null;
}

export interface PageRequest {
  limit: number;
  /** Sort key to continue after (exclusive). */
  after: string | null;
}

/** Repositories fetch limit + 1 rows; the extra row only says that another page exists. */
export function toPage<R, T>(rows: R[], limit: number, key: (row: R) => string, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), next: more && last !== undefined ? key(last) : null };
}
