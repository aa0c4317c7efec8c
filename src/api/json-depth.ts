/**
 * A limit on how deeply a JSON body nests. 256 KiB of `[[[[…` parses fine but
 * is 130 000 levels deep, and every recursive walk afterwards (serialising,
 * hashing for Idempotency-Key, schema validation) would overflow the stack.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';

/** Deepest nesting a body may have: `{"a": [1]}` is 2 levels. */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests deeper than `limit` levels; iterative, so any depth is safe to ask about. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: object; depth: number }[] = [];
  if (typeof value === 'object' && value !== null) stack.push({ value, depth: 1 });
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop() as { value: object; depth: number };
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child as object, depth: depth + 1 });
    }
  }
  return false;
}

/** preValidation hook: a body nested deeper than `limit` is a 400 before anything walks it. */
export function jsonDepthHook(limit = MAX_JSON_DEPTH) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (nestsDeeperThan(request.body, limit)) {
      throw new HeraldError(400, 'too_deep', `the JSON body nests deeper than ${limit} levels`);
    }
  };
}
