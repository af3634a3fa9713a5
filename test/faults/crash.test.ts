// The crash tier (issue 15): kill -9 of the controller at random moments while it converges VMs
// and their stations, several rounds, files edited between rounds; then every declaration
// converges, no duplicate domain, no VLAN or MAC given twice, no overlay or status left of
// deleted resources. CI runs a bounded version; `npm run soak:crash -- --rounds 20 --vms 300`
// the long one.
//   WIMAXVM_CRASH_SEED=N  WIMAXVM_CRASH_ROUNDS=N (default 5)  WIMAXVM_CRASH_VMS=N (default 60)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateLibvirtd, privateLibvirtdEnabled } from '../helpers/private-libvirtd.js';
import { eventually } from '../helpers/harness.js';
import { crashUri, CrashRun } from './crash/crash-rounds.js';
import { rng } from './fuzz/generator.js';

const SEED = process.env.WIMAXVM_CRASH_SEED ? Number(process.env.WIMAXVM_CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
const ROUNDS = Number(process.env.WIMAXVM_CRASH_ROUNDS ?? 5);
const VMS = Number(process.env.WIMAXVM_CRASH_VMS ?? 60);
// The test driver lives in a libvirtd of this test's own: the shared one may be restarted by
// another test file meanwhile (the KVM system test does), which would wipe the driver's state.
const enabled = privateLibvirtdEnabled();

describe.skipIf(!enabled)(`kill -9 at random moments (seed ${SEED}, ${ROUNDS} rounds, ${VMS} VMs, test+unix:///default of a private libvirtd)`, () => {
  let run: CrashRun;
  let libvirtd: PrivateLibvirtd;
  beforeAll(async () => {
    console.log(`crash seed ${SEED} (replay with WIMAXVM_CRASH_SEED=${SEED})`);
    libvirtd = new PrivateLibvirtd();
    await libvirtd.start();
    run = new CrashRun({ uri: crashUri(libvirtd.socket), seed: SEED, rounds: ROUNDS, vms: VMS, log: (l) => console.log(l) });
    await run.open();
  });
  afterAll(async () => {
    await run?.dispose();
    await libvirtd?.dispose();
  });

  it('every declaration converges; nothing duplicated, nothing left of what was deleted', async () => {
    const when = rng(SEED ^ 0x5eed);
    for (let round = 0; round < ROUNDS; round++) {
      run.start();
      const started = Date.now();
      // One round in five during start-up (a random delay); the others once the controller has
      // acted on libvirt a random number of times, mid-convergence (or, if it has little to
      // do, after a while).
      if (when() < 0.2) await new Promise((r) => setTimeout(r, Math.floor(when() * 1500)));
      else {
        // After the first round most VMs exist: the edits leave a few dozen actions to do.
        const target = 1 + Math.floor(when() * (round === 0 ? VMS : VMS / 5));
        await eventually(() => run.actions >= target || run.crashed() !== undefined || Date.now() - started > 5_000 + VMS * 20, `${target} actions`, 60_000 + VMS * 200);
      }
      expect(run.crashed(), `seed ${SEED} round ${round}`).toBeUndefined();
      const actions = run.actions;
      await run.kill9();
      console.log(`round ${round}: kill -9 after ${Date.now() - started} ms and ${actions} libvirt actions`);
      run.edit();
    }
    run.start();
    const timeout = 60_000 + VMS * 500;
    await eventually(async () => {
      const crashed = run.crashed();
      if (crashed) throw new Error(crashed);
      return (await run.converged()) === undefined;
    }, `convergence after the last round (seed ${SEED}): ${await run.converged().catch((e) => String(e))}`, timeout);
    expect(await run.check(), `seed ${SEED}`).toEqual([]);
    console.log(`crash seed ${SEED}: ${ROUNDS} rounds, ${run.declaredCounts.vms} VMs and ${run.declaredCounts.clients} stations converged`);
  }, 1_800_000);
});
