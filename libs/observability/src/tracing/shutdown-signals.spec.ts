import { waitFor } from '../../../../test/support/wait';
import { installShutdownSignals } from './shutdown-signals';

describe(installShutdownSignals.name, () => {
  let saved: NodeJS.SignalsListener[];
  let uninstall: (() => void) | undefined;

  beforeEach(() => {
    // The test runner may listen too; each case starts with no other listener.
    saved = process.listeners('SIGTERM');
    process.removeAllListeners('SIGTERM');
  });

  afterEach(() => {
    jest.useRealTimers();
    uninstall?.();
    uninstall = undefined;
    process.removeAllListeners('SIGTERM');
    for (const listener of saved) {
      process.on('SIGTERM', listener);
    }
  });

  it('runs the tasks, then exits 0, when nothing else handles the signal', async () => {
    const events: string[] = [];
    uninstall = installShutdownSignals({
      tasks: [async () => events.push('flushed')],
      exit: (code) => events.push(`exit ${code}`),
    });

    process.emit('SIGTERM', 'SIGTERM');
    await waitFor(() => events.includes('exit 0'), { what: 'the exit', timeout: 2000 });

    expect(events).toEqual(['flushed', 'exit 0']);
  });

  it('lets the app close first, and finishes when the app raises the signal again', async () => {
    const events: string[] = [];
    uninstall = installShutdownSignals({
      tasks: [async () => events.push('flushed')],
      exit: (code) => events.push(`exit ${code}`),
    });
    // What Nest's enableShutdownHooks() does: close, remove its listener, raise the signal again.
    const nest = (): void => {
      events.push('app closed');
      process.removeListener('SIGTERM', nest);
      setImmediate(() => process.emit('SIGTERM', 'SIGTERM'));
    };
    process.on('SIGTERM', nest);

    process.emit('SIGTERM', 'SIGTERM');
    await waitFor(() => events.includes('exit 0'), { what: 'the exit', timeout: 2000 });

    expect(events).toEqual(['app closed', 'flushed', 'exit 0']);
  });

  // Fake timers: "not before the deadline" must not depend on how busy the machine is.
  it('exits after the grace period when the app never finishes closing', async () => {
    jest.useFakeTimers();
    const exit = jest.fn();
    uninstall = installShutdownSignals({ tasks: [], exit, graceMs: 30 });
    process.on('SIGTERM', () => undefined);

    process.emit('SIGTERM', 'SIGTERM');
    await jest.advanceTimersByTimeAsync(29);
    expect(exit).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);

    expect(exit).toHaveBeenCalledWith(0);
  });

  it('does not wait for a task beyond the flush timeout, nor fail on a failing one', async () => {
    jest.useFakeTimers();
    const exit = jest.fn();
    uninstall = installShutdownSignals({
      tasks: [() => new Promise(() => undefined), () => Promise.reject(new Error('down'))],
      exit,
      flushTimeoutMs: 30,
    });

    process.emit('SIGTERM', 'SIGTERM');
    await jest.advanceTimersByTimeAsync(29);
    expect(exit).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);

    expect(exit).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(0);
  });
});
