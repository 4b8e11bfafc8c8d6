/**
 * The one owner of process shutdown. Kept free of imports: the instrument entry point
 * deep-imports it (to install the signal handlers before any framework module loads) and
 * `bootstrap` registers the app's steps on the same instance.
 */

/** The steps of a shutdown, run in this order. */
export type ShutdownPhase = 'drain' | 'close' | 'flush';
export const SHUTDOWN_PHASES: readonly ShutdownPhase[] = ['drain', 'close', 'flush'];

/** Work of one phase (tasks of one phase run together). */
export type ShutdownTask = () => Promise<unknown>;

export interface ShutdownOptions {
  /**
   * Deadline of `drain` and `close` together, ms (default 10 000, below Kubernetes' 30 s
   * grace period); past it, the flush runs anyway and the process exits 1.
   */
  graceMs?: number;
  /** Upper bound of the `flush` phase, ms (default 5 000). */
  flushTimeoutMs?: number;
  /** Signals that start the shutdown (default SIGTERM and SIGINT). */
  signals?: readonly NodeJS.Signals[];
  /** For tests; defaults to `process.exit`. */
  exit?: (code: number) => void;
  /** Where a failed or late step is reported; defaults to stderr. */
  report?: (line: string) => void;
}

/**
 * Runs the shutdown once, in order: `drain` (readiness 503, stop accepting, in-flight requests
 * finish), `close` (the app: database, Redis, clients), `flush` (spans, then error events),
 * then exits: 0 when every step finished in time, 1 otherwise. A second signal exits 1 at
 * once; the deadline skips to the flush.
 */
export class ShutdownOwner {
  private readonly tasks: Record<ShutdownPhase, ShutdownTask[]> = {
    drain: [],
    close: [],
    flush: [],
  };
  private running: Promise<boolean> | undefined;
  private flushedOnly = false;
  private readonly exit: (code: number) => void;
  private readonly report: (line: string) => void;

  constructor(private readonly options: ShutdownOptions = {}) {
    this.exit = options.exit ?? ((code: number) => process.exit(code));
    this.report = options.report ?? ((line: string) => process.stderr.write(`${line}\n`));
  }

  /** Adds a step; `flush` tasks added later still run before exit. */
  add(phase: ShutdownPhase, task: ShutdownTask): void {
    this.tasks[phase].push(task);
  }

  /** Whether a shutdown has started. */
  get started(): boolean {
    return this.running !== undefined;
  }

  /**
   * Runs every phase in order (once; later calls get the same result) without exiting.
   * Resolves true when `drain` and `close` finished, without failure, before the deadline.
   */
  run(): Promise<boolean> {
    return (this.running ??= this.runPhases());
  }

  /** Installs the signal handlers; returns their removal (for tests). */
  install(): () => void {
    const signals = this.options.signals ?? ['SIGTERM', 'SIGINT'];
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.running) {
        this.report(`Shutdown: second ${signal}, exiting now`);
        this.exit(1);
        return;
      }
      void this.run().then((clean) => this.exit(clean ? 0 : 1));
    };
    // The event loop ran dry without a signal (a script-like end): telemetry still leaves.
    const onBeforeExit = (): void => {
      if (!this.running && !this.flushedOnly) {
        this.flushedOnly = true;
        void this.runPhase('flush', this.options.flushTimeoutMs ?? 5_000);
      }
    };
    for (const signal of signals) {
      process.on(signal, onSignal);
    }
    process.on('beforeExit', onBeforeExit);
    return () => {
      for (const signal of signals) {
        process.removeListener(signal, onSignal);
      }
      process.removeListener('beforeExit', onBeforeExit);
    };
  }

  private async runPhases(): Promise<boolean> {
    const deadline = Date.now() + (this.options.graceMs ?? 10_000);
    let clean = true;
    for (const phase of ['drain', 'close'] as const) {
      const left = deadline - Date.now();
      clean = left > 0 && (await this.runPhase(phase, left)) && clean;
      if (!clean && Date.now() >= deadline) {
        this.report(`Shutdown: ${phase} did not finish before the deadline`);
        break;
      }
    }
    await this.runPhase('flush', this.options.flushTimeoutMs ?? 5_000);
    return clean;
  }

  /** Runs one phase's tasks together; true when all succeeded within `timeoutMs`. */
  private async runPhase(phase: ShutdownPhase, timeoutMs: number): Promise<boolean> {
    const tasks = this.tasks[phase];
    if (tasks.length === 0) {
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
      timer.unref();
    });
    const results = Promise.allSettled(tasks.map((task) => task()));
    const outcome = await Promise.race([results, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      return false;
    }
    const failed = outcome.filter((result) => result.status === 'rejected');
    for (const failure of failed) {
      this.report(`Shutdown: a ${phase} step failed: ${String(failure.reason)}`);
    }
    return failed.length === 0;
  }
}

let owner: ShutdownOwner | undefined;

/**
 * The process's shutdown owner, created (and its signal handlers installed) on the first
 * call: by the instrument entry point before the app exists, else by `bootstrap`.
 */
export function processShutdown(options?: ShutdownOptions): ShutdownOwner {
  if (!owner) {
    owner = new ShutdownOwner(options);
    owner.install();
  }
  return owner;
}
