import { Logger } from '@nestjs/common';
import { Scheduler } from './scheduler';

describe('Scheduler', () => {
  let scheduler: Scheduler;

  beforeEach(() => {
    jest.useFakeTimers();
    scheduler = new Scheduler();
  });

  afterEach(async () => {
    await scheduler.stop();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('runs a job every interval, starting one interval from now', async () => {
    const run = jest.fn().mockResolvedValue(undefined);
    scheduler.every({ name: 'Job', intervalSeconds: 10, run });
    expect(run).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(20_000);
    expect(run).toHaveBeenCalledTimes(3);
  });

  it('never runs a job twice at once: a tick during a run is skipped', async () => {
    let finish!: () => void;
    const run = jest.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    scheduler.every({ name: 'Slow job', intervalSeconds: 1, run });
    await jest.advanceTimersByTimeAsync(5_000);
    expect(run).toHaveBeenCalledTimes(1);
    finish();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(2);
    finish();
  });

  it('logs a failed run as a warning and runs again on the next tick', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const run = jest.fn().mockRejectedValueOnce(new Error('database away')).mockResolvedValue(undefined);
    scheduler.every({ name: 'Purge of things', intervalSeconds: 2, run });
    await jest.advanceTimersByTimeAsync(2_000);
    expect(warn).toHaveBeenCalledWith('Purge of things failed, retrying in 2 s: database away');
    await jest.advanceTimersByTimeAsync(2_000);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('does not start a job whose interval is 0', async () => {
    const run = jest.fn().mockResolvedValue(undefined);
    scheduler.every({ name: 'Off', intervalSeconds: 0, run });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(run).not.toHaveBeenCalled();
  });

  it('unrefs its timers, so a job never keeps the process alive', () => {
    const unref = jest.fn();
    jest.spyOn(global, 'setInterval').mockReturnValue({ unref } as unknown as NodeJS.Timeout);
    scheduler.every({ name: 'Job', intervalSeconds: 1, run: async () => undefined });
    expect(unref).toHaveBeenCalled();
  });

  it('stops every job at shutdown and waits for the run in progress', async () => {
    let finish!: () => void;
    let finished = false;
    const run = jest.fn(() => new Promise<void>((resolve) => (finish = resolve)).then(() => void (finished = true)));
    scheduler.every({ name: 'Job', intervalSeconds: 1, run });
    await jest.advanceTimersByTimeAsync(1_000);
    const stopped = scheduler.onModuleDestroy();
    finish();
    await stopped;
    expect(finished).toBe(true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
    scheduler.every({ name: 'Late', intervalSeconds: 1, run });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
