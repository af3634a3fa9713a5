// Regression: a state directory deleted while the controller ran was never recreated: every
// status and event after that went nowhere, and the CLI found nothing.
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readLockHolder } from '../../src/adapters/store/controller-lock.js';
import { StateReader } from '../../src/adapters/store/state-reader.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';

describe('a state directory deleted while the controller runs', () => {
  it('is written again at the next status write, with every status, the lock and new events', async () => {
    const h = await Harness.create({ files: { 'a.yaml': vmYaml({ name: 'rm-1' }) } });
    try {
      await h.start();
      await h.waitForStatus('rm-1', 'Running');
      rmSync(h.stateDir, { recursive: true, force: true });
      expect(existsSync(h.stateDir)).toBe(false);

      h.write('b.yaml', vmYaml({ name: 'rm-2' }));
      await h.waitForStatus('rm-2', 'Running');
      const reader = await eventually(() => StateReader.open(h.stateDir), 'a new state database');
      try {
        expect(reader.objects('VirtualMachine').map((o) => [o.metadata.name, o.status?.printableStatus])).toEqual([['rm-1', 'Running'], ['rm-2', 'Running']]);
        expect(reader.events('VirtualMachine/default/rm-2').map((e) => e.reason)).toContain('Started');
        expect(reader.watchedDirectory()).toBe(h.dir);
      } finally {
        reader.close();
      }
      expect(readLockHolder(h.stateDir)?.pid).toBe(process.pid);
      expect(h.logs.filter((l) => l.includes('the state database was removed while the controller ran'))).toHaveLength(1);
    } finally {
      await h.dispose();
    }
    expect(readLockHolder(h.stateDir)).toBeUndefined();
  });
});
