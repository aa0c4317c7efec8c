/**
 * A one-line progress display on stderr for long commands (bulk `events send`, `recover --wait`,
 * retries of many deliveries): a bar when the total is known, a counter otherwise, with the rate.
 * Only on a terminal: in pipes and CI logs it prints nothing, so stdout/stderr stay clean.
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** Force on or off; default: on when the stream is a terminal. */
  enabled?: boolean;
  /** Minimum time between redraws, ms. */
  intervalMs?: number;
  now?: () => number;
}

const BAR_WIDTH = 24;

export class Progress {
  readonly #label: string;
  #total: number | null;
  readonly #stream: ProgressStream;
  readonly #enabled: boolean;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  #done = 0;
  #failed = 0;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #drawn = false;
  #finished = false;

  constructor(label: string, total: number | null, options: ProgressOptions = {}) {
    this.#label = label;
    this.#total = total;
    this.#stream = options.stream ?? process.stderr;
    this.#enabled = options.enabled ?? this.#stream.isTTY === true;
    this.#intervalMs = options.intervalMs ?? 100;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  get done(): number {
    return this.#done;
  }

  get failed(): number {
    return this.#failed;
  }

  /** Counts finished items (`failed` of them did not succeed) and redraws at most every intervalMs. */
  tick(count = 1, failed = 0): void {
    this.#done += count;
    this.#failed += failed;
    this.#draw(false);
  }

  /** Sets the absolute count (for progress measured by polling). */
  set(done: number, total: number | null = this.#total): void {
    this.#done = done;
    this.#total = total;
    this.#draw(false);
  }

  /** The line as it would be drawn now (exported for tests). */
  render(): string {
    const elapsedS = Math.max((this.#now() - this.#startedAt) / 1000, 0.001);
    const rate = this.#done / elapsedS;
    const rateText = rate >= 10 ? `${Math.round(rate)}/s` : `${rate.toFixed(1)}/s`;
    const failed = this.#failed > 0 ? `  ${this.#failed} failed` : '';
    if (this.#total === null || this.#total <= 0) return `${this.#label}  ${this.#done}  ${rateText}${failed}`;
    const ratio = Math.min(this.#done / this.#total, 1);
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    return `${this.#label}  ${bar}  ${this.#done}/${this.#total}  ${Math.floor(ratio * 100)}%  ${rateText}${failed}`;
  }

  #draw(force: boolean): void {
    if (!this.#enabled || this.#finished) return;
    const now = this.#now();
    if (!force && now - this.#lastDraw < this.#intervalMs) return;
    this.#lastDraw = now;
    let line = this.render();
    const columns = this.#stream.columns;
    if (columns !== undefined && columns > 10 && line.length >= columns) line = line.slice(0, columns - 1);
    this.#stream.write(`\r\x1b[K${line}`);
    this.#drawn = true;
  }

  /** Draws the final state and ends the line (or clears it with `clear`). */
  finish(options: { clear?: boolean } = {}): void {
    if (this.#finished) return;
    this.#draw(true);
    this.#finished = true;
    if (this.#drawn) this.#stream.write(options.clear ? '\r\x1b[K' : '\n');
  }
}
