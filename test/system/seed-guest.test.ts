// The cloud-init seed on a real guest (qemu:///system, Open vSwitch): wimaxvm's seed image
// (src/seed/, GenisoimageSeeds) on the domain's CD-ROM as buildDomainXml attaches it, booted once.
// The tiny guest's stand-in for cloud-init (test/helpers/real-guest/nocloud.sh) finds the volume
// labelled cidata, sets the seed's hostname and configures the seed's static address on the NIC
// with the seed's MAC (no DHCP server on the slice); a host on the slice pings that address.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenisoimageSeeds } from '../../src/adapters/genisoimage-seeds.js';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { QemuImgDisks } from '../../src/adapters/qemu-img-disks.js';
import { silentLogger } from '../../src/core/logger.js';
import { buildDomainXml, serialLogPath, vmPortName } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { noCloudSeed } from '../../src/seed/nocloud-seed.js';
import { eventually } from '../helpers/harness.js';
import { ovsTestsEnabled, OvsTestbed } from '../helpers/ovs-testbed.js';
import { ensureRealGuestDisk, GUEST_SAYS, REAL_GUEST_MEMORY, wimaxvmSerialLog } from '../helpers/real-guest/index.js';
import { answers, systemTestsEnabled } from '../helpers/system.js';
import { parseMemory } from '../../src/api/quantity.js';

const enabled = systemTestsEnabled() && ovsTestsEnabled();
const run = Math.random().toString(36).slice(2, 7);
const VM = `seed-${run}`;
const HOSTNAME = `box-${run}`;
const VLAN = 400 + Math.floor(Math.random() * 100);
const MAC = `52:54:00:5e:${Math.floor(Math.random() * 256).toString(16).padStart(2, '0')}:${Math.floor(Math.random() * 256).toString(16).padStart(2, '0')}`;
/** On the testbed's slice subnet (10.77.0.0/24, where vmA is .11), away from the other addresses. */
const ADDRESS = `10.77.0.${60 + Math.floor(Math.random() * 100)}`;

describe.runIf(enabled)('a cloud-init seed on a real guest: hostname and static address from the CD-ROM', () => {
  let bed: OvsTestbed;
  let hv: LibvirtHypervisor;
  let base: string;
  const figures: Record<string, string> = {};

  beforeAll(async () => {
    const disk = await ensureRealGuestDisk();
    bed = OvsTestbed.create({ vmTags: [VLAN, VLAN + 1] });
    base = mkdtempSync(join(tmpdir(), 'wimaxvm-seed-sys-'));
    chmodSync(base, 0o755); // libvirtd's qemu user reaches the overlay and the seed below it
    const overlays = join(base, 'overlays');
    const disks = new QemuImgDisks(dirname(disk), overlays);
    const image = await disks.resolveImage(basename(disk));
    await disks.ensureOverlay(VM, 0, image);
    const seed = noCloudSeed({
      domainName: VM, hostname: HOSTNAME, mac: MAC, sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN test@lab'],
      address: { address: ADDRESS, prefixLength: 24, gateway: bed.vmA.ip, dns: [bed.vmA.ip] },
    });
    const seedPath = await new GenisoimageSeeds(overlays).ensureSeed(VM, seed);
    hv = new LibvirtHypervisor({ uri: 'qemu:///system', logger: silentLogger });
    await hv.connect();
    await hv.define(buildDomainXml({
      name: VM, uuid: crypto.randomUUID(), type: hv.domainType(), memoryKiB: parseMemory(REAL_GUEST_MEMORY) / 1024, vcpus: 1,
      diskPaths: [disks.overlayPath(VM, 0, image)], mac: MAC,
      nic: { type: 'bridge', source: bed.bridge, openvswitch: true, vlan: VLAN, port: vmPortName(VM) },
      owner: { uid: `seed-test-${run}`, namespace: 'default', name: VM, generation: 1, specHash: 'seed-test', mac: MAC },
      serialLog: true, seedPath,
    }));
  }, 300_000);

  afterAll(async () => {
    answers('virsh', '-c', 'qemu:///system', 'destroy', VM);
    answers('virsh', '-c', 'qemu:///system', 'undefine', VM);
    await hv?.close();
    bed?.dispose();
    if (base) rmSync(base, { recursive: true, force: true });
    rmSync(serialLogPath(VM), { force: true });
    console.log(`seed guest (${VM}): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  it('the guest finds the seed CD-ROM, takes its hostname and configures its address instead of asking DHCP', async () => {
    const log = wimaxvmSerialLog(VM);
    const started = Date.now();
    await hv.start(VM);
    // The hostname line, or the guest's word that it found no seed (a failure, said at once).
    const first = await log.waitFor(new RegExp(`${GUEST_SAYS.seedHostname.source}|${GUEST_SAYS.seedError.source}`), 'seed hostname line', { timeoutMs: 240_000 });
    expect(first[0]).toBe(`wimaxvm-guest seed hostname ${HOSTNAME}`);
    const [, nic, address, prefix, gateway] = await log.waitFor(GUEST_SAYS.seedAddress, 'seed address line', { timeoutMs: 30_000 });
    expect({ nic, address, prefix, gateway }).toEqual({ nic: 'eth0', address: ADDRESS, prefix: '24', gateway: bed.vmA.ip });
    await log.waitForReady({ timeoutMs: 30_000 });
    figures.boot = `${Date.now() - started} ms from start to the ready line`;
    expect(log.text()).not.toMatch(GUEST_SAYS.seedError);
    expect(log.text()).not.toMatch(GUEST_SAYS.dhcp);
  }, 330_000);

  it('a host on the slice pings the guest at the seed\'s address', async () => {
    await eventually(() => bed.ping(bed.vmA.ns, ADDRESS, 1), `a ping from ${bed.vmA.ns} to ${ADDRESS}`, 60_000);
  }, 90_000);
});
