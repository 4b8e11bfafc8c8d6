/** Work to finish before the process exits (flush spans, flush error events). */
export type ShutdownTask = () => Promise<unknown>;

export interface ShutdownSignalOptions {
  tasks: ShutdownTask[];
  /** Upper bound for all tasks together, ms. */
  flushTimeoutMs?: number;
  /**
   * How long the app (Nest's shutdown hooks) may take to close before telemetry is flushed
   * and the process exits anyway, ms.
   */
  graceMs?: number;
  /** For tests; defaults to `process.exit`. */
  exit?: (code: number) => void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Flushes telemetry on SIGTERM/SIGINT and exits 0, after the app has closed.
 *
 * Nest's `enableShutdownHooks()` listens to the same signals, closes the app (draining HTTP,
 * running `onApplicationShutdown`), removes its listener and raises the signal again. This
 * handler is registered first (instrument.ts loads before Nest): on the first delivery it
 * steps aside while other listeners exist; on the re-raised one, now alone, it runs the
 * tasks and exits 0 rather than letting the signal kill the process. A process without
 * shutdown hooks is handled on the first delivery. A grace timer bounds a hung close.
 */
export function installShutdownSignals(options: ShutdownSignalOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let finishing = false;
  let grace: NodeJS.Timeout | undefined;

  const finish = async (): Promise<void> => {
    if (finishing) {
      return;
    }
    finishing = true;
    if (grace) {
      clearTimeout(grace);
    }
    await runTasks(options.tasks, options.flushTimeoutMs ?? 5_000);
    exit(0);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) <= 1 || grace) {
      void finish();
      return;
    }
    grace = setTimeout(() => void finish(), options.graceMs ?? 10_000);
  };
  // Flush also when the event loop drains without a signal (a script-like exit).
  const onBeforeExit = (): void => {
    if (!finishing) {
      finishing = true;
      void runTasks(options.tasks, options.flushTimeoutMs ?? 5_000);
    }
  };

  for (const signal of SIGNALS) {
    process.on(signal, onSignal);
  }
  process.once('beforeExit', onBeforeExit);
  return () => {
    for (const signal of SIGNALS) {
      process.removeListener(signal, onSignal);
    }
    process.removeListener('beforeExit', onBeforeExit);
    if (grace) {
      clearTimeout(grace);
    }
  };
}

async function runTasks(tasks: ShutdownTask[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([Promise.allSettled(tasks.map((task) => task())), timeout]);
  clearTimeout(timer);
}
