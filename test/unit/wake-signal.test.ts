import { describe, expect, it } from 'vitest';
import { WakeSignal } from '../../src/delivery/wake-signal.js';

/** Milliseconds a promise took to settle. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const start = performance.now();
  await promise;
  return performance.now() - start;
}

describe('WakeSignal', () => {
  it('ends a wait at its timeout when nobody notifies', async () => {
    const signal = new WakeSignal();
    const took = await timed(signal.wait(30));
    expect(took).toBeGreaterThanOrEqual(25);
    expect(took).toBeLessThan(1_000);
  });

  it('ends a long wait at once when notified', async () => {
    const signal = new WakeSignal();
    const waiting = signal.wait(60_000);
    setTimeout(() => signal.notify(), 5);
    expect(await timed(waiting)).toBeLessThan(1_000);
  });

  it('remembers a notify that came before the wait, so a wake-up is never lost', async () => {
    const signal = new WakeSignal();
    signal.notify();
    expect(await timed(signal.wait(60_000))).toBeLessThan(1_000);
  });

  it('remembers one wake-up, not a count: several notifies make one short wait', async () => {
    const signal = new WakeSignal();
    signal.notify();
    signal.notify();
    signal.notify();
    await signal.wait(60_000);
    expect(await timed(signal.wait(30))).toBeGreaterThanOrEqual(25);
  });

  it('a notify that ended a wait is used up: the next wait sleeps again', async () => {
    const signal = new WakeSignal();
    const first = signal.wait(60_000);
    signal.notify();
    await first;
    expect(await timed(signal.wait(30))).toBeGreaterThanOrEqual(25);
  });

  it('a wait that timed out does not keep the next wait from being woken', async () => {
    const signal = new WakeSignal();
    await signal.wait(1);
    const waiting = signal.wait(60_000);
    signal.notify();
    expect(await timed(waiting)).toBeLessThan(1_000);
  });

  it('treats a negative timeout as zero', async () => {
    const signal = new WakeSignal();
    expect(await timed(signal.wait(-5))).toBeLessThan(1_000);
  });
});
