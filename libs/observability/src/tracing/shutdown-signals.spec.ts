import { installShutdownSignals } from './shutdown-signals';

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe(installShutdownSignals.name, () => {
  let saved: NodeJS.SignalsListener[];
  let uninstall: (() => void) | undefined;

  beforeEach(() => {
    // The test runner may listen too; each case starts with no other listener.
    saved = process.listeners('SIGTERM');
    process.removeAllListeners('SIGTERM');
  });

  afterEach(() => {
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
    await tick(10);

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
    await tick(20);

    expect(events).toEqual(['app closed', 'flushed', 'exit 0']);
  });

  it('exits after the grace period when the app never finishes closing', async () => {
    const exit = jest.fn();
    uninstall = installShutdownSignals({ tasks: [], exit, graceMs: 30 });
    process.on('SIGTERM', () => undefined);

    process.emit('SIGTERM', 'SIGTERM');
    await tick(5);
    expect(exit).not.toHaveBeenCalled();
    await tick(60);

    expect(exit).toHaveBeenCalledWith(0);
  });

  it('does not wait for a task beyond the flush timeout, nor fail on a failing one', async () => {
    const exit = jest.fn();
    uninstall = installShutdownSignals({
      tasks: [() => new Promise(() => undefined), () => Promise.reject(new Error('down'))],
      exit,
      flushTimeoutMs: 30,
    });

    process.emit('SIGTERM', 'SIGTERM');
    await tick(10);
    expect(exit).not.toHaveBeenCalled();
    await tick(50);

    expect(exit).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(0);
  });
});
