import { describe, expect, it } from 'vitest';
import { createIdGenerator, idLowerBound, idTimestamp, isId, newId } from '../../src/domain/ids.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A deterministic random source: counts bytes up, so consecutive ids are predictable. */
function fixedRandom(byte: number) {
  return (buffer: Buffer) => void buffer.fill(byte);
}

describe('newId', () => {
  it('formats ids as the prefix, an underscore and a 26-character Crockford base32 ULID', () => {
    const id = newId('evt');
    expect(id.startsWith('evt_')).toBe(true);
    expect(id.slice(4)).toMatch(ULID);
    expect(isId(id, 'evt')).toBe(true);
  });

  it('encodes the creation time in milliseconds', () => {
    const before = Date.now();
    const id = newId('dlv');
    const after = Date.now();
    expect(idTimestamp(id)).toBeGreaterThanOrEqual(before);
    expect(idTimestamp(id)).toBeLessThanOrEqual(after);
  });

  it('makes ids that sort in creation order as plain strings, even many per millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => newId('x'));
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps ids of different prefixes monotonic in their ULID part', () => {
    const a = newId('evt');
    const b = newId('dlv');
    expect(b.slice(4) > a.slice(4)).toBe(true);
  });
});

describe('createIdGenerator', () => {
  it('uses the injected clock for the time part', () => {
    const gen = createIdGenerator({ now: () => 1_700_000_000_123 });
    expect(idTimestamp(gen('a'))).toBe(1_700_000_000_123);
  });

  it('increments the random part within one millisecond', () => {
    const gen = createIdGenerator({ now: () => 1000, fillRandom: fixedRandom(0) });
    expect(gen('a').slice(-16)).toBe('0000000000000000');
    expect(gen('a').slice(-16)).toBe('0000000000000001');
    expect(gen('a').slice(-16)).toBe('0000000000000002');
  });

  it('carries the increment from the low into the high half of the random part', () => {
    // All-0xff bytes: both 40-bit halves at their maximum.
    const gen = createIdGenerator({ now: () => 1000, fillRandom: fixedRandom(0xff) });
    const first = gen('a');
    const second = gen('a');
    expect(second > first).toBe(true);
    // hi overflowed too, so the generator moved on to the next millisecond.
    expect(idTimestamp(second)).toBe(1001);
  });

  it('stays monotonic when the clock steps backwards', () => {
    let t = 5000;
    const gen = createIdGenerator({ now: () => t });
    const first = gen('a');
    t = 4000;
    const second = gen('a');
    expect(second > first).toBe(true);
    expect(idTimestamp(second)).toBe(5000);
  });

  it('draws fresh randomness when the millisecond changes', () => {
    let t = 1;
    const gen = createIdGenerator({
      now: () => t,
      fillRandom: (b) => {
        for (let i = 0; i < b.length; i++) b[i] = i % 251;
      },
    });
    const a = gen('a');
    t = 2;
    const b = gen('a');
    expect(a.slice(-16)).not.toBe(b.slice(-16));
  });

  it('rejects times outside the 48-bit range', () => {
    const gen = createIdGenerator({ now: () => 2 ** 48 });
    expect(() => gen('a')).toThrow(RangeError);
  });
});

describe('idTimestamp', () => {
  it('decodes the time of the reference ULID from the ULID specification', () => {
    expect(idTimestamp('x_01ARYZ6S41TSV4RRFFQ69G5FAV')).toBe(1_469_918_176_385);
  });

  it('reads the time of an id whose prefix contains underscores', () => {
    const gen = createIdGenerator({ now: () => 42 });
    expect(idTimestamp(gen('org_token'))).toBe(42);
  });

  it('throws on strings that are not prefixed ULIDs', () => {
    expect(() => idTimestamp('evt_123')).toThrow(TypeError);
    expect(() => idTimestamp('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toThrow(TypeError);
    expect(() => idTimestamp('evt_01ARZ3NDEKTSV4RRFFQ69G5FAV!')).toThrow(TypeError);
  });
});

describe('isId', () => {
  it('checks the prefix when one is given', () => {
    const id = newId('evt');
    expect(isId(id, 'evt')).toBe(true);
    expect(isId(id, 'dlv')).toBe(false);
    expect(isId(id)).toBe(true);
  });

  it('rejects characters outside the Crockford alphabet and overlong time parts', () => {
    expect(isId('evt_01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true);
    expect(isId('evt_01ARZ3NDEKTSV4RRFFQ69G5FAU')).toBe(false);
    expect(isId('evt_01ARZ3NDEKTSV4RRFFQ69G5FAI')).toBe(false);
    expect(isId('evt_81ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(false);
  });
});

describe('idLowerBound', () => {
  it('sorts before every id made at or after the time and after every id made before it', () => {
    const at = (ms: number) => createIdGenerator({ now: () => ms, fillRandom: fixedRandom(0) })('evt');
    const bound = idLowerBound('evt', 10_000);
    expect(at(9_999) < bound).toBe(true);
    expect(at(10_000) >= bound).toBe(true);
    expect(at(10_001) > bound).toBe(true);
  });
});
