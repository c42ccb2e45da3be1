/**
 * Client side of credit flow control. After `hello{window}` the server sends at most `window` data
 * frames (snapshot/delta) ahead of credit. Credit is returned in batches, once half the window has
 * been consumed, so the server never stalls on a full window while a credit frame is not sent per
 * message.
 */
export class CreditWindow {
  private consumed = 0;
  private readonly batch: number;

  constructor(readonly window: number) {
    this.batch = Math.max(1, Math.floor(window / 2));
  }

  /** A new connection starts with a fresh window. */
  reset(): void {
    this.consumed = 0;
  }

  /** Records one consumed data frame; returns the credit to send now, or 0. */
  consume(): number {
    if (++this.consumed < this.batch) return 0;
    const n = this.consumed;
    this.consumed = 0;
    return n;
  }
}
