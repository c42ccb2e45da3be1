/**
 * The waits of a tail's loops (for new records, for a retry delay) that closing the tail must
 * interrupt; shared by the file/memory logs' tails and the Kafka tail. Bound: one entry per loop
 * currently waiting.
 */
export class Waits {
  closed = false;
  private readonly waits = new Set<() => void>();

  /** Waits until `arm`'s wake-up fires or `close()` is called; the disarm function always runs. */
  wait(arm: (wake: () => void) => () => void): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const armed: { disarm?: () => void; woken?: boolean } = {};
      const wake = () => {
        if (armed.woken) return;
        armed.woken = true;
        this.waits.delete(wake);
        armed.disarm?.();
        resolve();
      };
      this.waits.add(wake);
      armed.disarm = arm(wake);
      if (armed.woken) armed.disarm(); // woken while arming
    });
  }

  /** Waits `ms` or until closed. */
  sleep(ms: number): Promise<void> {
    return this.wait((w) => {
      const timer = setTimeout(w, ms);
      return () => clearTimeout(timer);
    });
  }

  /** Wakes every wait; later waits resolve at once. */
  close(): void {
    this.closed = true;
    for (const w of [...this.waits]) w();
  }
}
