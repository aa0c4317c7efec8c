/**
 * The one error Herald's services throw for a request they refuse. The API
 * turns it into `{"error": {"code", "message", "details"}}` with `status`.
 */
export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
  }
}

export function notFound(what: string, id: string): HeraldError {
  return new HeraldError(404, 'not_found', `${what} ${JSON.stringify(id)} does not exist`);
}

/** Normalises anything caught into an Error, keeping the original as cause. */
export function coerceError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value), { cause: value });
}
