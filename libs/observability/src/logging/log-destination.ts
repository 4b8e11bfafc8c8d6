import { destination, type DestinationStream } from 'pino';

/** Bytes of log lines gathered before one `write` to stdout. */
export const LOG_BUFFER_BYTES = 4096;
/** A buffered line reaches stdout at the latest this long after it was logged, ms. */
export const LOG_FLUSH_INTERVAL_MS = 50;

let stdout: DestinationStream | undefined;

/**
 * The process's JSON log destination: stdout through an asynchronous sonic-boom that writes
 * whole buffers (one syscall per {@link LOG_BUFFER_BYTES} instead of one per line) and flushes
 * every {@link LOG_FLUSH_INTERVAL_MS} on an unref'd timer. pino registers it for a
 * synchronous flush on `exit` (process.exit on SIGTERM/SIGINT and on fatal errors, an
 * uncaught exception, an unhandled rejection) and an asynchronous one on `beforeExit`, so no
 * line is lost on the exit paths; only SIGKILL loses the last interval's lines.
 * One per process: every logger of the app shares it.
 */
export function bufferedStdout(): DestinationStream {
  stdout ??= destination({
    dest: 1,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
  });
  return stdout;
}
