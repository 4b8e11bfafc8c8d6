/**
 * The one way a test waits: poll for the condition it needs, with a deadline, and fail
 * naming that condition. Never a fixed sleep in front of an assertion: a sleep is too long
 * on a quiet machine and too short on a loaded one.
 *
 * ```ts
 * const line = await waitFor(() => app.jsonLogs().find((l) => l.requestId === id), {
 *   what: `users-service's log line of request ${id}`,
 * });
 * ```
 */

export interface WaitOptions {
  /** What is being waited for, in words; the error on timeout starts with it. */
  what: string;
  /** Deadline, ms (default 10 000). */
  timeout?: number;
  /** Pause between two polls, ms (default 25). */
  interval?: number;
  /** Extra detail for the timeout message (the last value seen, a log tail …). */
  describe?: () => string;
  /** Errors of `condition` for which waiting is pointless (a process died): thrown at once. */
  rethrow?: (error: unknown) => boolean;
}

/**
 * Resolves with the first truthy value `condition` returns (it may be async). A condition
 * that throws is retried like a falsy one (the last error is quoted on timeout), so
 * `expect(...)` inside it is allowed. Rejects after `timeout` ms with
 * `Timed out after N ms waiting for <what>`.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitOptions,
): Promise<NonNullable<T>> {
  const timeout = options.timeout ?? 10_000;
  const interval = options.interval ?? 25;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) {
        return value;
      }
      lastError = undefined;
    } catch (error) {
      if (options.rethrow?.(error)) {
        throw error;
      }
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const details = [
        lastError === undefined
          ? ''
          : `last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`,
        options.describe?.() ?? '',
      ].filter(Boolean);
      throw new Error(
        `Timed out after ${timeout} ms waiting for ${options.what}${
          details.length ? `\n${details.join('\n')}` : ''
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, deadline - Date.now())));
  }
}
