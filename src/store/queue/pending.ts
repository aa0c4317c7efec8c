import { sql } from 'kysely';

/**
 * `status = 'pending'` written as a literal, not a bound parameter: SQLite only
 * uses a partial index (`... where status = 'pending'`) when it can see that
 * the query's condition implies the index's, which a parameter hides.
 */
export const isPending = sql<boolean>`status = 'pending'`;
