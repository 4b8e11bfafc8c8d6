import { waitFor } from '../../../../test/support/wait';
import { ShutdownOwner } from './shutdown';

describe(ShutdownOwner.name, () => {
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

  it('on SIGTERM drains, then closes, then flushes, then exits 0, whatever the order of registration', async () => {
    const events: string[] = [];
    const owner = new ShutdownOwner({ exit: (code) => events.push(`exit ${code}`) });
    const step = (name: string) => async () => {
      events.push(`${name} started`);
      await new Promise((resolve) => setImmediate(resolve));
      events.push(`${name} done`);
    };
    // Telemetry registers first (instrument.ts runs before the app exists).
    owner.add('flush', step('spans'));
    owner.add('flush', step('sentry'));
    owner.add('close', step('app'));
    owner.add('drain', step('requests'));
    uninstall = owner.install();

    process.emit('SIGTERM', 'SIGTERM');
    await waitFor(() => events.includes('exit 0'), { what: 'the exit', timeout: 2000 });

    expect(events).toEqual([
      'requests started',
      'requests done',
      'app started',
      'app done',
      'spans started',
      'sentry started',
      'spans done',
      'sentry done',
      'exit 0',
    ]);
  });

  it('exits 1 at once on a second signal', async () => {
    const exit = jest.fn();
    const owner = new ShutdownOwner({ exit, report: () => undefined });
    owner.add('drain', () => new Promise(() => undefined));
    uninstall = owner.install();

    process.emit('SIGTERM', 'SIGTERM');
    expect(exit).not.toHaveBeenCalled();
    process.emit('SIGTERM', 'SIGTERM');

    expect(exit).toHaveBeenCalledWith(1);
  });

  // Fake timers: "not before the deadline" must not depend on how busy the machine is.
  it('skips to the flush at the deadline when the app never finishes closing, and exits 1', async () => {
    jest.useFakeTimers();
    const exit = jest.fn();
    const flushed = jest.fn(() => Promise.resolve());
    const owner = new ShutdownOwner({ exit, graceMs: 30, report: () => undefined });
    owner.add('close', () => new Promise(() => undefined));
    owner.add('flush', flushed);
    uninstall = owner.install();

    process.emit('SIGTERM', 'SIGTERM');
    await jest.advanceTimersByTimeAsync(29);
    expect(flushed).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);

    expect(flushed).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('does not wait for a flush beyond its timeout, nor stop on a failing step', async () => {
    jest.useFakeTimers();
    const exit = jest.fn();
    const lines: string[] = [];
    const closed = jest.fn(() => Promise.resolve());
    const owner = new ShutdownOwner({ exit, flushTimeoutMs: 30, report: (l) => lines.push(l) });
    owner.add('drain', () => Promise.reject(new Error('server gone')));
    owner.add('close', closed);
    owner.add('flush', () => new Promise(() => undefined));
    uninstall = owner.install();

    process.emit('SIGTERM', 'SIGTERM');
    await jest.advanceTimersByTimeAsync(30);

    expect(closed).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([expect.stringMatching(/drain step failed: Error: server gone/)]);
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('runs once: a later run() gets the same result', async () => {
    const close = jest.fn(() => Promise.resolve());
    const owner = new ShutdownOwner({ exit: () => undefined });
    owner.add('close', close);

    await expect(Promise.all([owner.run(), owner.run()])).resolves.toEqual([true, true]);
    expect(close).toHaveBeenCalledTimes(1);
    expect(owner.started).toBe(true);
  });
});
