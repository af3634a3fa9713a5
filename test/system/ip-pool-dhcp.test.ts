// The guest really receives its pooled address: a transient libvirt network on qemu:///system with
// its own DHCP range, an IPPool inside its subnet but outside that range, and a real guest whose
// VirtualMachine names the pool. wimaxvm pushes the fixed DHCP lease into the network before the
// guest starts; the guest's DHCP client (udhcpc, reported on its serial console) gets exactly the
// pooled address, not one of the range. One boot. Deleting the VM takes the lease out again.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNetworkDhcp } from '../../src/pools/dhcp-host.js';
import { serialLogPath } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ensureRealGuestDisk, REAL_GUEST_MEMORY, wimaxvmSerialLog, type SerialLog } from '../helpers/real-guest/index.js';
import { answers, systemTestsEnabled, virsh } from '../helpers/system.js';

const run = Math.random().toString(36).slice(2, 8);
const VM = `ippool-${run}`;
const NET = `wxp${run}`; // also the bridge's name: at most 15 characters

/** A transient network on a /24 no other network of the host uses (libvirt refuses an overlap): its third octet. */
function createNetwork(): number {
  const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-ippool-net-'));
  for (let attempt = 0; attempt < 20; attempt++) {
    const octet = 1 + Math.floor(Math.random() * 250);
    const file = join(dir, 'net.xml');
    writeFileSync(file, `<network><name>${NET}</name><bridge name='${NET}' stp='off'/>`
      + `<ip address='10.214.${octet}.1' netmask='255.255.255.0'><dhcp><range start='10.214.${octet}.100' end='10.214.${octet}.150'/></dhcp></ip></network>`);
    try {
      execFileSync('virsh', ['-c', 'qemu:///system', 'net-create', file], { encoding: 'utf8', stdio: 'pipe' });
      return octet;
    } catch (err) {
      if (!/in use|overlap/i.test(String((err as { stderr?: string }).stderr))) throw err;
    }
  }
  throw new Error('no free 10.214.x.0/24 for the test network');
}

describe.runIf(systemTestsEnabled())('a pooled address reaches a real guest through the libvirt network\'s DHCP', () => {
  let h: Harness;
  let log: SerialLog;
  let octet: number;
  let disk: string;
  const figures: Record<string, string> = {};

  beforeAll(async () => {
    disk = await ensureRealGuestDisk();
    octet = createNetwork();
    h = await Harness.create({
      uri: 'qemu:///system',
      flags: { nic: `network:${NET}`, 'image-dir': dirname(disk), 'shutdown-timeout': '20s', poll: '200ms' },
    });
    log = wimaxvmSerialLog(VM);
    h.write('pool.yaml', ['apiVersion: wimaxvm.io/v1alpha1', 'kind: IPPool', 'metadata: { name: lab }',
      `spec: { cidr: 10.214.${octet}.0/24, gateway: 10.214.${octet}.1, dns: [10.214.${octet}.1], ranges: [10.214.${octet}.20-10.214.${octet}.29] }`].join('\n') + '\n');
    h.write('guest.yaml', vmYaml({ name: VM, memory: REAL_GUEST_MEMORY, extra: `  network: { ipPool: lab }\n  disks:\n    - image: ${basename(disk)}` }));
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
    answers('virsh', '-c', 'qemu:///system', 'destroy', VM);
    answers('virsh', '-c', 'qemu:///system', 'undefine', VM);
    answers('virsh', '-c', 'qemu:///system', 'net-destroy', NET);
    await h?.dispose();
    rmSync(serialLogPath(VM), { force: true });
    console.log(`pooled DHCP (${VM} on ${NET}): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  it('the guest\'s DHCP client gets exactly the pooled address; deleting the VM takes its lease out', async () => {
    const started = Date.now();
    await h.start();
    const status = await h.waitForStatus(VM, 'Running', 60_000);
    const pooled = `10.214.${octet}.20`;
    expect(status.allocations.ip).toBe(pooled);
    const mac = status.allocations.mac!;
    const hosts = () => readNetworkDhcp(virsh('net-dumpxml', NET)).hosts;
    expect(hosts()).toEqual([{ mac, ip: pooled, name: VM }]);
    const leased = await log.waitForAddress({ timeoutMs: 240_000 });
    figures.lease = `${Date.now() - started} ms from the controller's start to the guest's lease`;
    expect(leased).toBe(pooled);
    // libvirt's own view of the lease agrees (dnsmasq's lease file).
    await eventually(() => virsh('net-dhcp-leases', NET).includes(pooled), `libvirt's lease list shows ${pooled}`, 20_000);

    h.remove('guest.yaml');
    await eventually(() => h.status(VM) === undefined, `${VM} removed`, 60_000);
    expect(hosts()).toEqual([]);
  }, 420_000);
});
