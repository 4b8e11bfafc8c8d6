import { type AdmissionControl } from './admission-control.service';

/**
 * Runs at most `concurrency` tasks at once and lets at most `queueLimit` more wait; a task
 * beyond that is refused at once with {@link ServiceOverloadedException} (counted with
 * `reason`), so a burst costs a fast 503 rather than a queue of seconds.
 */
export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly admission: AdmissionControl,
    private readonly reason: string,
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {}

  /** Tasks running plus waiting. */
  get depth(): number {
    return this.running + this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) {
        throw this.admission.shed(this.reason);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) {
        next(); // the slot passes to the next task; `running` stays the same
      } else {
        this.running -= 1;
      }
    }
  }
}
