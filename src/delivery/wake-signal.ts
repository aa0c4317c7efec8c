/** An abortable sleep: `wait` ends at its timeout or at the next `notify`, whichever is first. */
export class WakeSignal {
  #pending: (() => void) | null = null;
  #notified = false;

  notify(): void {
    this.#notified = true;
    const resolve = this.#pending;
    this.#pending = null;
    resolve?.();
  }

  wait(ms: number): Promise<void> {
    if (this.#notified) {
      this.#notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#pending === done) this.#pending = null;
        this.#notified = false;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#pending = done;
    });
  }
}
