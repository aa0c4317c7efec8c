/**
 * The dispatcher's picture of when each webhook next has work. It is a hint:
 * the claim statement decides what is really due, and a periodic rescan from
 * the store corrects anything the hints missed (another process's retries,
 * a lost wake-up). Keeping it per webhook is what makes claiming fair: the
 * dispatcher asks every ready webhook for a share, so one webhook's backlog
 * cannot hide another's work.
 */
export class DueSchedule {
  readonly #due = new Map<string, number>();

  /** Work for `webhookId` is due at `at` (or earlier, if already known). */
  lower(webhookId: string, at: number): void {
    const current = this.#due.get(webhookId);
    if (current === undefined || at < current) this.#due.set(webhookId, at);
  }

  set(webhookId: string, at: number | null): void {
    if (at === null) this.#due.delete(webhookId);
    else this.#due.set(webhookId, at);
  }

  /** Replaces every hint with a fresh scan, keeping hints newer than the scan began. */
  replace(scan: Map<string, number>, lowered: Map<string, number>): void {
    this.#due.clear();
    for (const [id, at] of scan) this.#due.set(id, at);
    for (const [id, at] of lowered) this.lower(id, at);
  }

  /** Webhooks with work due at `now`, the longest-waiting first. */
  ready(now: number): string[] {
    const ready: [string, number][] = [];
    for (const [id, at] of this.#due) if (at <= now) ready.push([id, at]);
    ready.sort((a, b) => a[1] - b[1]);
    return ready.map(([id]) => id);
  }

  /** The earliest hint after `now`, or null. */
  nextAfter(now: number): number | null {
    let next: number | null = null;
    for (const at of this.#due.values()) if (at > now && (next === null || at < next)) next = at;
    return next;
  }

  get size(): number {
    return this.#due.size;
  }
}
