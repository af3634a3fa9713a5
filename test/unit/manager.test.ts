// The Manager: parts start in order and stop in reverse; a failed start stops what started (the
// failing part too) and throws; a stop during a start waits for the part still starting, so the
// first part (the state lock) is given back last.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Manager, StartError, type Runnable } from '../../src/core/manager.js';

function recorder() {
  const log: string[] = [];
  const part = (name: string, start: (signal: AbortSignal) => Promise<void> = async () => undefined): Runnable => ({
    name,
    start: async (signal) => {
      log.push(`start ${name}`);
      await start(signal);
      log.push(`up ${name}`);
    },
    stop: async () => { log.push(`stop ${name}`); },
  });
  return { log, part };
}

describe('Manager', () => {
  it('starts in order and stops in reverse, each part once', async () => {
    const { log, part } = recorder();
    const m = new Manager(silentLogger).add(part('state'), part('libvirt'), part('controllers'));
    await m.start();
    await Promise.all([m.stop(), m.stop()]);
    expect(log).toEqual(['start state', 'up state', 'start libvirt', 'up libvirt', 'start controllers', 'up controllers', 'stop controllers', 'stop libvirt', 'stop state']);
  });

  it('a failed start stops the failing part and those before it, in reverse, and names the part', async () => {
    const { log, part } = recorder();
    const m = new Manager(silentLogger).add(part('state'), part('http', async () => { throw new Error('listen EADDRINUSE'); }), part('controllers'));
    await expect(m.start()).rejects.toThrow(new StartError('http', new Error('listen EADDRINUSE')).message);
    expect(log).toEqual(['start state', 'up state', 'start http', 'stop http', 'stop state']);
  });

  it('a stop during a start waits for the part still starting, then stops it before the others', async () => {
    const { log, part } = recorder();
    let release!: () => void;
    const slow = part('controllers', () => new Promise<void>((resolve) => (release = resolve))); // ignores the signal, as a survey would
    const m = new Manager(silentLogger).add(part('state'), slow);
    const starting = m.start();
    await new Promise((r) => setImmediate(r));
    const stopping = m.stop();
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start state', 'up state', 'start controllers']); // nothing stopped under it
    release();
    await stopping;
    await expect(starting).rejects.toThrow(/stopped while starting/);
    expect(log).toEqual(['start state', 'up state', 'start controllers', 'up controllers', 'stop controllers', 'stop state']);
  });

  it('a stop during a start that waits on the signal (a source that cannot list) ends the start', async () => {
    const { log, part } = recorder();
    const waiting = part('source', (signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })));
    const m = new Manager(silentLogger).add(part('state'), waiting, part('controllers'));
    const starting = m.start();
    await new Promise((r) => setImmediate(r));
    await m.stop();
    await expect(starting).rejects.toThrow(/stopped while starting/);
    expect(log).toEqual(['start state', 'up state', 'start source', 'up source', 'stop source', 'stop state']);
  });
});
