// drain's progress and verdict (src/cli/drain-watch.ts), over a source a test plays: a VM with no
// room elsewhere is said once and waited for; a failed move for good ends it at once; the
// timeout names what is left and why. The source answers each look from a script, so nothing
// here depends on time but the timeout case, whose deadline passes with the host still full.
import { describe, expect, it } from 'vitest';
import type { VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { watchDrain, type DrainedVm, type DrainSource } from '../../src/cli/drain-watch.js';

const status = (nodeName: string, reason: string, message = `${reason} message`, printableStatus = 'Stopped') => ({
  printableStatus, nodeName, conditions: [{ type: 'Scheduled', status: 'True', reason, message, lastTransitionTime: '' }],
}) as unknown as VirtualMachineStatus;
const vm = (label: string, s: VirtualMachineStatus, current = true): DrainedVm => ({ label, status: s, current: async () => current });

/** Answers the looks in turn, the last one for ever; counts them. */
function scripted(looks: { vms: DrainedVm[]; left: string[] }[]): DrainSource & { looks: number } {
  return {
    looks: 0,
    async read() {
      return looks[Math.min(this.looks++, looks.length - 1)]!;
    },
  };
}

async function drained(source: DrainSource, timeoutMs = 60_000) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await watchDrain(source, 'a', timeoutMs, { out: (l) => out.push(l), err: (l) => err.push(l) }, 0);
  return { code, out, err };
}

describe('watchDrain', () => {
  it('blocked for lack of room: said once (its message changing meanwhile), waited for, then moved: exit 0', async () => {
    const blocked = (n: number) => vm('v1', status('a', 'DrainBlocked', `runs on a, which is being drained; it stays: 0/2 hypervisors are available: ${n} Insufficient memory.`));
    const source = scripted([
      { vms: [blocked(2)], left: ['v1'] },
      { vms: [blocked(1)], left: ['v1'] },
      { vms: [blocked(1)], left: ['v1'] },
      { vms: [vm('v1', status('a', 'Migrating', 'cold move from a to b'))], left: ['v1'] },
      { vms: [vm('v1', status('b', 'Scheduled'))], left: [] },
    ]);
    const r = await drained(source);
    expect(r).toEqual({
      code: 0, err: [],
      out: [
        'virtualmachine/v1 DrainBlocked: runs on a, which is being drained; it stays: 0/2 hypervisors are available: 2 Insufficient memory. (waiting for room until --timeout)',
        'virtualmachine/v1 Migrating: cold move from a to b',
        'virtualmachine/v1 moved to b',
        'hypervisor/a drained',
      ],
    });
    expect(source.looks).toBe(5);
  });

  it('still blocked at the timeout: exit 1 naming the VM and why, and what the Hypervisor still lists', async () => {
    const r = await drained(scripted([{ vms: [vm('v1', status('a', 'DrainBlocked', 'no room')), vm('ns/v2', status('a', 'Scheduled'))], left: ['v1', 'ns_v2', 'v3'] }]), 0);
    expect(r.code).toBe(1);
    expect(r.err).toEqual(['error: hypervisor/a not drained after 0s: still there: v1 (DrainBlocked: no room), ns/v2, v3']);
  });

  it('a failed move the controller will not try again ends the drain at once, but only once the status answers the VM as declared now', async () => {
    const failed = (current: boolean) => vm('v1', status('a', 'MigrationFailed', 'live migration to b failed: no p2p', 'Running'), current);
    const source = scripted([{ vms: [failed(false)], left: ['v1'] }, { vms: [failed(true)], left: ['v1'] }]);
    const r = await drained(source);
    expect(r.code).toBe(1);
    expect(r.err).toEqual(['error: cannot drain hypervisor/a: virtualmachine/v1: live migration to b failed: no p2p']);
    expect(source.looks).toBe(2);
  });

  it('a failed live migration of a guest that is stopped now is tried again cold: not the end', async () => {
    const r = await drained(scripted([
      { vms: [vm('v1', status('a', 'MigrationFailed', 'live migration to b failed: no p2p', 'Stopped'))], left: ['v1'] },
      { vms: [vm('v1', status('b', 'Scheduled'))], left: [] },
    ]));
    expect(r.code).toBe(0);
  });
});
