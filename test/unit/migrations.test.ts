// Moves in the background (src/hosts/migrations.ts): a failed one is tried again only when what
// it was asked with changes; one that stopped the guest is not tried again when the guest starts
// again where it was (that would stop it again, and again: a restart loop).
import { describe, expect, it } from 'vitest';
import { Migrations, type MigrationJob, type MoveAttempt } from '../../src/hosts/migrations.js';

const attempt = (power: MoveAttempt['power'], token = '3/'): MoveAttempt => ({ token, power, drain: false, mayStop: true });

async function finished(m: Migrations, a: MoveAttempt, stops: boolean): Promise<MigrationJob> {
  let done!: () => void;
  const ended = new Promise<void>((r) => { done = r; });
  const job = m.start('vm1', 'a', 'b', a, async (observer) => {
    if (stops) observer.stopping?.(['/ov/disk0']);
    throw new Error('base image is not on b');
  }, async () => undefined, () => setImmediate(done));
  await ended;
  await new Promise((r) => setImmediate(r));
  return job;
}

describe('Migrations: when a failed move is tried again', () => {
  it('a failed move that did not stop the guest: again when the guest\'s power changes, not for the same attempt', async () => {
    const m = new Migrations();
    const first = await finished(m, attempt('running'), false);
    expect(m.start('vm1', 'a', 'b', attempt('running'), async () => undefined, async () => undefined, () => undefined)).toBe(first);
    expect(m.start('vm1', 'a', 'b', attempt('off'), async () => undefined, async () => undefined, () => undefined)).not.toBe(first);
  });

  it('a failed move that stopped the guest: not again when the guest is off or running again, only when the attempt or the destination changes', async () => {
    const m = new Migrations();
    const first = await finished(m, attempt('running'), true);
    expect(first).toMatchObject({ stopped: true, error: 'base image is not on b', done: true });
    expect(m.start('vm1', 'a', 'b', attempt('off'), async () => undefined, async () => undefined, () => undefined)).toBe(first);
    expect(m.start('vm1', 'a', 'b', attempt('running'), async () => undefined, async () => undefined, () => undefined)).toBe(first);
    expect(m.start('vm1', 'a', 'b', attempt('running', '4/'), async () => undefined, async () => undefined, () => undefined)).not.toBe(first);
  });
});
