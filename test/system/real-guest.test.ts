// The tiny real guest (test/helpers/real-guest/) under wimaxvm on libvirtd + QEMU and Open
// vSwitch: one guest, booted once, through boot, DHCP on its slice VLAN, a WiMAX station's ping,
// managed save and restore, and a graceful stop. Figures go to the log, not into assertions.
import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ovsTestsEnabled, OvsTestbed } from '../helpers/ovs-testbed.js';
import { DhcpServer, ensureRealGuestDisk, GUEST_SAYS, REAL_GUEST_MEMORY, realGuestBuildInfo, wimaxvmSerialLog, type SerialLog } from '../helpers/real-guest/index.js';
import { answers, systemTestsEnabled, virsh } from '../helpers/system.js';
import { serialLogPath } from '../../src/reconcilers/virtual-machine/domain-xml.js';

const enabled = systemTestsEnabled() && ovsTestsEnabled();
const run = Math.random().toString(36).slice(2, 7);
const VM = `guest-${run}`;
const VLAN = 300 + Math.floor(Math.random() * 100);

function clientYaml(name: string, mac: string, vmName: string): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: ${name}\nspec:\n  mac: "${mac}"\n  vmName: ${vmName}\n`;
}

/**
 * virsh that waits out a libvirtd restart (test/system/kvm.test.ts restarts the shared one while
 * other files run): a failure while libvirtd answers is a failure, otherwise it tries once more.
 */
async function virshOnce(...args: string[]): Promise<string> {
  try {
    return virsh(...args);
  } catch (err) {
    if (answers('virsh', '-c', 'qemu:///system', 'version')) throw err;
    await eventually(() => answers('virsh', '-c', 'qemu:///system', 'version'), 'libvirtd back', 60_000);
    return virsh(...args);
  }
}

const figures: Record<string, string> = {};

describe.runIf(enabled)('a real guest under wimaxvm: boot, DHCP, a station ping, save/restore, graceful stop', () => {
  let bed: OvsTestbed;
  let h: Harness;
  let dhcp: DhcpServer;
  let disk: string;
  let log: SerialLog;
  let address: string;
  const guestYaml = (runStrategy: string) => vmYaml({
    name: VM, runStrategy, memory: REAL_GUEST_MEMORY, extra: `  network:\n    vlan: ${VLAN}\n  disks:\n    - image: ${basename(disk)}`,
  });

  beforeAll(async () => {
    const t = Date.now();
    disk = await ensureRealGuestDisk();
    figures.build = `${realGuestBuildInfo(disk).buildMs} ms when built; ${Date.now() - t} ms for this call`;
    // The DHCP server sits in the testbed's first "VM" namespace, its port an access port of the slice VLAN.
    bed = OvsTestbed.create({ vmTags: [VLAN, VLAN + 1] });
    bed.enableTcp(); // dnsmasq's UDP replies need real checksums through the userspace datapath
    dhcp = await DhcpServer.start({ netns: bed.vmA.ns, iface: 'eth0', range: ['10.77.0.100', '10.77.0.199'] });
    h = await Harness.create({
      uri: 'qemu:///system',
      flags: { nic: `ovs:${bed.bridge}`, uplink: bed.uplink, 'image-dir': dirname(disk), 'shutdown-timeout': '30s', poll: '200ms' },
    });
    log = wimaxvmSerialLog(VM);
    h.write('guest.yaml', guestYaml('Always'));
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, VM));
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
    answers('virsh', '-c', 'qemu:///system', 'destroy', VM); // quietly: usually stopped already
    answers('virsh', '-c', 'qemu:///system', 'undefine', '--managed-save', VM);
    await h?.dispose();
    dhcp?.stop();
    bed?.dispose();
    rmSync(serialLogPath(VM), { force: true });
    console.log(`real guest (${VM}): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  it('boots from its disk image and says it is ready on the serial console', async () => {
    const started = Date.now();
    await h.start();
    await h.waitForStatus(VM, 'Running', 60_000);
    const running = Date.now();
    await log.waitForReady({ timeoutMs: 180_000 });
    const type = /<domain type='(\w+)'/.exec(virsh('dumpxml', VM))![1];
    figures.boot = `${Date.now() - started} ms from the controller's start to the ready line (${Date.now() - running} ms after Running), domain type ${type}`;
  }, 240_000);

  it('asks for an address on its slice VLAN and gets one from the DHCP server there', async () => {
    address = await log.waitForAddress({ timeoutMs: 60_000 });
    const mac = h.status(VM)!.allocations.mac!;
    expect(address).toMatch(/^10\.77\.0\.1\d\d$/);
    expect(dhcp.leases().get(mac)).toBe(address);
  }, 90_000);

  it('a station bound to its slice pings it through the VLAN; a station bound to none does not', async () => {
    await eventually(() => h.running!.statuses.get('WimaxClient/default/st1')?.status?.printableStatus === 'Bound', 'st1 bound', 30_000);
    expect(bed.ping(bed.st1.ns, address)).toBe(true);
    expect(bed.ping(bed.st2.ns, address, 1)).toBe(false);
  }, 60_000);

  it('memory survives virsh managedsave and start: the counter goes on in the same boot', async () => {
    await h.stop(); // so that it does not start (restore) the saved guest itself
    try {
      const before = log.counters().at(-1)!;
      await virshOnce('managedsave', VM);
      expect((await virshOnce('domstate', '--reason', VM)).trim()).toBe('shut off (saved)');
      const mark = log.size();
      await virshOnce('start', VM);
      const after = await log.nextCounter({ from: mark, timeoutMs: 60_000 });
      expect(after.boot).toBe(before.boot);
      expect(after.n).toBeGreaterThan(before.n);
      expect(log.text(mark)).not.toMatch(GUEST_SAYS.ready);
    } finally {
      await h.start();
    }
    // The restored guest's switch port was added again, with a new OpenFlow port number: once
    // the controller has moved the station's flows to it, the station reaches the guest again.
    await eventually(() => bed.ping(bed.st1.ns, address), 'st1 pinging the restored guest', 30_000);
  }, 120_000);

  it('a graceful stop (runStrategy Halted) ends in the guest powering off on ACPI, not in a destroy', async () => {
    await h.waitForStatus(VM, 'Running', 30_000);
    const mark = log.size();
    const asked = Date.now();
    h.write('guest.yaml', guestYaml('Halted'));
    await h.waitForStatus(VM, 'Stopped', 60_000);
    figures.shutdown = `${Date.now() - asked} ms from runStrategy Halted to Stopped (shutdown timeout 30 s)`;
    expect((await virshOnce('domstate', '--reason', VM)).trim()).toBe('shut off (shutdown)');
    expect(log.text(mark)).toMatch(GUEST_SAYS.powerButton);
  }, 90_000);
});
