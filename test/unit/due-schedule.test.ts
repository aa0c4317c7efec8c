import { describe, expect, it } from 'vitest';
import { DueSchedule } from '../../src/delivery/due-schedule.js';

const t0 = 1_700_000_000_000;

describe('DueSchedule', () => {
  it('starts empty: nothing ready, no next time', () => {
    const schedule = new DueSchedule();
    expect(schedule.size).toBe(0);
    expect(schedule.ready(t0)).toEqual([]);
    expect(schedule.nextAfter(t0)).toBeNull();
  });

  it('lower keeps the earliest hint of a webhook and never moves it later', () => {
    const schedule = new DueSchedule();
    schedule.lower('wh_a', t0 + 5_000);
    schedule.lower('wh_a', t0 + 1_000);
    schedule.lower('wh_a', t0 + 9_000);
    expect(schedule.size).toBe(1);
    expect(schedule.nextAfter(t0)).toBe(t0 + 1_000);
  });

  it('set overwrites a hint in either direction, and null forgets the webhook', () => {
    const schedule = new DueSchedule();
    schedule.set('wh_a', t0 + 1_000);
    schedule.set('wh_a', t0 + 7_000);
    expect(schedule.nextAfter(t0)).toBe(t0 + 7_000);
    schedule.set('wh_a', null);
    expect(schedule.size).toBe(0);
    expect(schedule.nextAfter(t0)).toBeNull();
  });

  it('lists the webhooks due now, the longest-waiting first, and leaves out future ones', () => {
    const schedule = new DueSchedule();
    schedule.set('wh_recent', t0 - 10);
    schedule.set('wh_future', t0 + 1);
    schedule.set('wh_oldest', t0 - 60_000);
    schedule.set('wh_exactly_now', t0);
    expect(schedule.ready(t0)).toEqual(['wh_oldest', 'wh_recent', 'wh_exactly_now']);
  });

  it('nextAfter answers the earliest hint strictly after now, ignoring what is already due', () => {
    const schedule = new DueSchedule();
    schedule.set('wh_due', t0 - 1_000);
    schedule.set('wh_now', t0);
    schedule.set('wh_later', t0 + 3_000);
    schedule.set('wh_soon', t0 + 2_000);
    expect(schedule.nextAfter(t0)).toBe(t0 + 2_000);
    expect(schedule.nextAfter(t0 + 3_000)).toBeNull();
  });

  it('replace drops hints the scan did not find, but keeps hints lowered while the scan ran', () => {
    const schedule = new DueSchedule();
    schedule.set('wh_gone', t0);
    schedule.set('wh_moved', t0 - 5_000);
    const scan = new Map([
      ['wh_moved', t0 + 10_000],
      ['wh_scanned', t0 + 20_000],
    ]);
    const lowered = new Map([
      ['wh_scanned', t0 + 1_000], // an ingest during the scan: earlier than the scan saw
      ['wh_moved', t0 + 50_000], // later than the scan: the scan's time stands
      ['wh_new', t0 + 2_000],
    ]);
    schedule.replace(scan, lowered);
    expect(schedule.size).toBe(3);
    expect(schedule.ready(t0 + 60_000)).toEqual(['wh_scanned', 'wh_new', 'wh_moved']);
    expect(schedule.nextAfter(t0)).toBe(t0 + 1_000);
  });
});
