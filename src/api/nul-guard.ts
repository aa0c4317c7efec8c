/**
 * U+0000 (NUL) is refused anywhere in a request: in the path, the query
 * string, and every string or key of a JSON body. PostgreSQL text cannot
 * hold it (a NUL in an id or a name would fail the query, not the request),
 * and no webhook setting, id or event needs it. One rule for both stores.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';

/** Whether any string or key inside `value` contains U+0000; iterative. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return true;
    } else if (Array.isArray(node)) {
      for (const child of node) stack.push(child);
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        if (key.includes('\u0000')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/** preValidation hook (after the depth check, so the walk is bounded). */
export function nulGuardHook() {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (/%00/i.test(request.url) || request.url.includes('\u0000')) {
      throw new HeraldError(400, 'invalid_character', 'the URL contains U+0000 (NUL), which no path or query parameter may hold');
    }
    if (containsNul(request.body)) {
      throw new HeraldError(400, 'invalid_character', 'the JSON body contains U+0000 (NUL), which no string may hold');
    }
  };
}
