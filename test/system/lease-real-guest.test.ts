// A lease that expires during the test stops a real guest (test/helpers/real-guest/) on libvirtd
// + QEMU: booted once under runStrategy Always with a long lease, the lease is edited down to a
// few seconds (an edit counts from when it is seen), and at expiry the guest powers off on ACPI,
// as for runStrategy Halted; the controller, restarted, does not start it again. User-mode NIC:
// no switch needed. Figures go to the log, not into assertions.
import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ensureRealGuestDisk, GUEST_SAYS, REAL_GUEST_MEMORY, wimaxvmSerialLog, type SerialLog } from '../helpers/real-guest/index.js';
import { answers, systemTestsEnabled, virsh } from '../helpers/system.js';
import { serialLogPath } from '../../src/reconcilers/virtual-machine/domain-xml.js';

const enabled = systemTestsEnabled();
const VM = `lease-guest-${Math.random().toString(36).slice(2, 7)}`;
const figures: Record<string, string> = {};

describe.runIf(enabled)('a lease that expires stops a real guest', () => {
  let h: Harness;
  let disk: string;
  let log: SerialLog;
  const guestYaml = (duration: string) => vmYaml({
    name: VM, runStrategy: 'Always', memory: REAL_GUEST_MEMORY,
    extra: `  disks:\n    - image: ${basename(disk)}\n  lease:\n    duration: ${duration}\n    onExpiry: Stop`,
  });

  beforeAll(async () => {
    disk = await ensureRealGuestDisk();
    h = await Harness.create({ uri: 'qemu:///system', flags: { 'image-dir': dirname(disk), 'shutdown-timeout': '60s', poll: '200ms' } });
    log = wimaxvmSerialLog(VM);
    h.write('guest.yaml', guestYaml('1h'));
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
    answers('virsh', '-c', 'qemu:///system', 'destroy', VM); // quietly: usually stopped already
    answers('virsh', '-c', 'qemu:///system', 'undefine', '--managed-save', VM);
    await h?.dispose();
    rmSync(serialLogPath(VM), { force: true });
    console.log(`lease on a real guest (${VM}): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  it('boots under its 1h lease', async () => {
    await h.start();
    await h.waitForStatus(VM, 'Running', 60_000);
    await log.waitForReady({ timeoutMs: 180_000 });
    expect(h.status(VM)!.expiresAt).toBeDefined();
  }, 240_000);

  it('the lease edited to 5s expires: a warning, then an ACPI shutdown the guest acts on, Expired', async () => {
    const mark = log.size();
    const edited = Date.now();
    h.write('guest.yaml', guestYaml('5s'));
    const expired = await eventually(async () => {
      const s = h.status(VM);
      return s?.printableStatus === 'Expired' && (await h.domain(VM))?.state === 'shutoff' ? s : undefined;
    }, `${VM} Expired and shut off`, 120_000);
    figures.expiry = `${Date.now() - edited} ms from the edit to 5s until Expired and shut off (lease ${Date.parse(expired.expiresAt!) - Date.parse(expired.lease!.startedAt)} ms)`;
    expect(virsh('domstate', '--reason', VM).trim()).toBe('shut off (shutdown)'); // the guest's own power-off, not a destroy
    expect(log.text(mark)).toMatch(GUEST_SAYS.powerButton);
    expect(expired.conditions.find((c) => c.type === 'Lease')).toMatchObject({ status: 'False', reason: 'Expired' });
  }, 150_000);

  it('a restarted controller leaves the expired guest off, though runStrategy is Always', async () => {
    await h.stop();
    await h.start();
    await h.waitForStatus(VM, 'Expired', 60_000);
    await h.settle();
    expect(virsh('domstate', VM).trim()).toBe('shut off');
  }, 120_000);
});
