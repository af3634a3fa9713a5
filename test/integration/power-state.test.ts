// spec.powerState through a YAML file, on libvirt's test driver (in process): paused, resumed,
// saved (managed save), restored, deleted while saved (the image goes with the domain), and a
// bad value refused without touching the guest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';

const run = Math.random().toString(36).slice(2, 6);
const VM = `pw-${run}`;
const FILE = 'power.yaml';
const declare = (powerState?: string) => vmYaml({ name: VM, ...(powerState ? { extra: `  powerState: ${powerState}` } : {}) });

describe('declared power state in file mode (test:///default)', () => {
  let h: Harness;
  beforeAll(async () => {
    // A second file: a directory that declares nothing deletes nothing (the deletion gate).
    h = await Harness.create({ files: { [FILE]: declare('Paused'), 'keep.yaml': vmYaml({ name: `${VM}-keep`, runStrategy: 'Halted' }) } });
    await h.start();
  });
  afterAll(async () => {
    if (process.env.PW_LOGS) console.log(h.logs.slice(-40).join('\n'));
    await h.dispose();
  });

  it('Paused pauses, Running resumes the same guest', async () => {
    await h.waitForStatus(VM, 'Paused');
    const paused = (await h.domain(VM))!;
    expect(paused.state).toBe('paused');
    expect(h.status(VM)!.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', message: 'the guest is paused, as powerState Paused asks' });
    h.write(FILE, declare('Running'));
    await h.waitForStatus(VM, 'Running');
    const resumed = (await h.domain(VM))!;
    expect([resumed.state, resumed.id]).toEqual(['running', paused.id]);
  });

  it('Saved saves the guest to disk; Running restores it; a bad value is refused and changes nothing', async () => {
    h.write(FILE, declare('Saved'));
    await h.waitForStatus(VM, 'Saved');
    expect(await h.observer.domainState(VM)).toEqual({ state: 'shutoff', reason: 'saved' });
    expect(await h.observer.hasManagedSave(VM)).toBe(true);
    h.write(FILE, declare('Asleep'));
    await eventually(() => h.status(VM)?.conditions.find((c) => c.type === 'SourceValid' && /powerState.*Unsupported value: "Asleep"/.test(c.message)), 'the enum error reported');
    await h.settle();
    expect(await h.observer.hasManagedSave(VM)).toBe(true);
    expect(h.status(VM)!.printableStatus).toBe('Saved');
    h.write(FILE, declare('Running'));
    await h.waitForStatus(VM, 'Running');
    expect((await h.domain(VM))!.state).toBe('running');
    expect(await h.observer.hasManagedSave(VM)).toBe(false);
  });

  it('a VM deleted while saved is undefined with its saved state', async () => {
    h.write(FILE, declare('Saved'));
    await h.waitForStatus(VM, 'Saved');
    h.remove(FILE);
    await eventually(async () => (await h.domain(VM)) === undefined, `${VM} undefined`);
    await eventually(() => h.status(VM) === undefined, 'status removed');
  });
});
