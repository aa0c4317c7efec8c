/** What every system under test sends: ~600-byte events, signed the Standard Webhooks way. */
import { randomBytes } from 'node:crypto';
import { signRequest } from '../src/domain/signatures/index.js';

export const EVENT_TYPE = 'bench.event';
export const EVENT_BYTES = 600;

const PAD = 'x'.repeat(EVENT_BYTES);

/** The event's `data`: `seq` first so the receiver finds it cheaply; padded so the posted event is ~600 bytes. */
export function eventData(tag: string, seq: number): { seq: number; tag: string; pad: string } {
  // {"type":"bench.event","data":{"seq":…,"tag":"…","pad":"…"}} ≈ 60 bytes of frame.
  return { seq, tag, pad: PAD.slice(0, EVENT_BYTES - 60 - tag.length) };
}

/** The body Herald would send for it (its envelope), for the raw ceiling and BullMQ. */
export function envelope(id: string, tag: string, seq: number): string {
  return JSON.stringify({ type: EVENT_TYPE, timestamp: new Date().toISOString(), data: eventData(tag, seq), id });
}

export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

const SCHEME = { scheme: 'standard-webhooks' } as const;

/** The signature headers, plus content-type. */
export function signedHeaders(id: string, body: string, secret: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Herald-bench',
    ...signRequest(SCHEME, { id, timestampS: Math.floor(Date.now() / 1000), body, secrets: [secret] }),
  };
}
