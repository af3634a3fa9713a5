// libvirt's domain events drive the controller (test:///default, in process): with the poller
// set to an hour, a domain destroyed or shut down behind the controller's back is noticed all
// the same, and RerunOnFailure tells the two apart by the reason the guest stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyByHand, shutdownByHand } from '../helpers/by-hand.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';

const run = Math.random().toString(36).slice(2, 6);
const ALWAYS = `ev-${run}-always`;
const RERUN = `ev-${run}-rerun`;
const DONE = `ev-${run}-done`;

describe('domain events, with the poller out of the way (--poll 1h)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.create({
      flags: { poll: '1h', resync: '1h' },
      files: {
        'a.yaml': vmYaml({ name: ALWAYS }),
        'r.yaml': vmYaml({ name: RERUN, runStrategy: 'RerunOnFailure' }),
        'd.yaml': vmYaml({ name: DONE, runStrategy: 'RerunOnFailure' }),
      },
    });
    await h.start();
    for (const name of [ALWAYS, RERUN, DONE]) await h.waitForStatus(name, 'Running');
  });

  afterAll(async () => h.dispose());

  async function restartedAfterDestroy(name: string): Promise<number> {
    const before = h.status(name)!.domain!.id;
    const t0 = performance.now();
    await destroyByHand(h.uri, name);
    await eventually(() => h.status(name)?.printableStatus === 'Running' && h.status(name)?.domain?.id !== before, `${name} running again`, 10_000);
    return performance.now() - t0;
  }

  it('virsh destroy of an Always VM: started again', async () => {
    const ms = await restartedAfterDestroy(ALWAYS);
    console.log(`test:///default: destroy by hand → running again in ${ms.toFixed(1)} ms`);
    expect((await h.domain(ALWAYS))!.state).toBe('running');
  });

  it('virsh destroy of a RerunOnFailure VM is a failure: started again', async () => {
    await restartedAfterDestroy(RERUN);
    expect((await h.domain(RERUN))!.state).toBe('running');
  });

  it('a RerunOnFailure guest that shut down completed: it stays off, and says so', async () => {
    await shutdownByHand(h.uri, DONE);
    await h.waitForStatus(DONE, 'Stopped');
    await h.running!.idle();
    const domain = (await h.domain(DONE))!;
    expect([domain.state, domain.reason]).toEqual(['shutoff', 'shutdown']);
  });
});
