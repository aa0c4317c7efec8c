/**
 * Prefixed ULIDs: `${prefix}_${26 Crockford base32 chars}` = 48-bit ms time + 80 random bits.
 * Ids sort by creation time as plain strings, which lets the store use them as cursors.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LEN = 10;
const RANDOM_LEN = 16;
const ULID_LEN = TIME_LEN + RANDOM_LEN;
const TIME_MAX = 2 ** 48 - 1;
// The 80 random bits are kept as two 40-bit halves: each fits exactly in a double, no BigInt on the hot path.
const HALF = 2 ** 40;
// Ten bytes per fresh random part; one randomFillSync call serves 256 ids.
const POOL_IDS = 256;

/** Crockford decoding table; accepts lower case too (Crockford decoding is case-insensitive). */
const DECODE: Record<string, number> = Object.create(null) as Record<string, number>;
for (let i = 0; i < ALPHABET.length; i++) {
  DECODE[ALPHABET.charAt(i)] = i;
  DECODE[ALPHABET.charAt(i).toLowerCase()] = i;
}

function encodeBase32(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const digit = value % 32;
    out = ALPHABET.charAt(digit) + out;
    value = (value - digit) / 32;
  }
  return out;
}

function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > TIME_MAX) {
    throw new RangeError(`id time out of range: ${ms}`);
  }
  return encodeBase32(ms, TIME_LEN);
}

export interface IdGeneratorOptions {
  /** Clock in epoch ms; tests inject one. */
  now?: () => number;
  /** Fills the buffer with random bytes; tests inject one. */
  fillRandom?: (buffer: Buffer) => void;
}

/**
 * A monotonic generator: an id made later always sorts after an earlier one, even within
 * one millisecond or when the clock steps back (the random part is incremented instead).
 */
export function createIdGenerator(options: IdGeneratorOptions = {}): (prefix: string) => string {
  const now = options.now ?? Date.now;
  const fillRandom = options.fillRandom ?? ((buffer: Buffer) => void randomFillSync(buffer));
  const pool = Buffer.allocUnsafe(10 * POOL_IDS);
  let poolPos = pool.length;
  let lastTime = -1;
  let timePart = '';
  let hi = 0;
  let lo = 0;

  function freshRandom(): void {
    if (poolPos + 10 > pool.length) {
      fillRandom(pool);
      poolPos = 0;
    }
    hi = pool.readUIntBE(poolPos, 5);
    lo = pool.readUIntBE(poolPos + 5, 5);
    poolPos += 10;
  }

  function advanceTime(ms: number): void {
    lastTime = ms;
    timePart = encodeTime(ms);
    freshRandom();
  }

  return (prefix: string): string => {
    const t = now();
    if (t > lastTime) {
      advanceTime(t);
    } else {
      // Same millisecond (or the clock went back): stay on lastTime and count up.
      lo += 1;
      if (lo === HALF) {
        lo = 0;
        hi += 1;
        // 2^80 ids in one ms cannot happen in practice; moving to the next ms keeps the order anyway.
        if (hi === HALF) advanceTime(lastTime + 1);
      }
    }
    return `${prefix}_${timePart}${encodeBase32(hi, 8)}${encodeBase32(lo, 8)}`;
  };
}

const defaultGenerator = createIdGenerator();

/** A new `${prefix}_<ULID>` id, monotonic within this process. */
export function newId(prefix: string): string {
  return defaultGenerator(prefix);
}

/** The creation time (epoch ms) encoded in an id. Throws on anything that is not a prefixed ULID. */
export function idTimestamp(id: string): number {
  const start = id.length - ULID_LEN;
  if (start < 1 || id.charAt(start - 1) !== '_') {
    throw new TypeError(`not a Herald id: ${JSON.stringify(id)}`);
  }
  let ms = 0;
  for (let i = start; i < start + TIME_LEN; i++) {
    const digit = DECODE[id.charAt(i)];
    if (digit === undefined) throw new TypeError(`not a Herald id: ${JSON.stringify(id)}`);
    ms = ms * 32 + digit;
  }
  if (ms > TIME_MAX) throw new TypeError(`not a Herald id: ${JSON.stringify(id)}`);
  return ms;
}

/** True when `id` is `${prefix}_` followed by a well-formed ULID (any prefix when omitted). */
export function isId(id: string, prefix?: string): boolean {
  if (prefix !== undefined && (id.length !== prefix.length + 1 + ULID_LEN || !id.startsWith(`${prefix}_`))) {
    return false;
  }
  const start = id.length - ULID_LEN;
  if (start < 1 || id.charAt(start - 1) !== '_') return false;
  for (let i = start; i < id.length; i++) {
    if (DECODE[id.charAt(i)] === undefined) return false;
  }
  // The top time character carries only 3 bits.
  return (DECODE[id.charAt(start)] ?? 32) < 8;
}

/**
 * The smallest id of `prefix` that can be created at `ms`: every id made at or after `ms`
 * sorts >= it, every id made before sorts < it. For "since time" range scans on id columns.
 */
export function idLowerBound(prefix: string, ms: number): string {
  return `${prefix}_${encodeTime(ms)}${'0'.repeat(RANDOM_LEN)}`;
}
