// Cold moves and `wimaxvm drain` in file mode, through the real engine on two libvirt test
// drivers: the controller's own test:///default ("local", in this process) and libvirtd's
// test+unix:///default ("remote", another driver instance, shared with other tests: names here
// are unique). The test driver cannot live-migrate, which is what the failed drain shows; guests
// that are not running move cold: one definition on the new host, none on the old, the VM's MAC
// and VLAN unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { silentLogger } from '../../src/core/logger.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { cli } from '../helpers/run-cli.js';

const run = Math.random().toString(36).slice(2, 6);
const REMOTE_URI = 'test+unix:///default';

function hypervisorYaml(name: string, uri: string, extra: string[] = []): string {
  return ['apiVersion: wimaxvm.io/v1alpha1', 'kind: Hypervisor', 'metadata:', `  name: ${name}`, 'spec:', `  uri: "${uri}"`, ...extra].join('\n') + '\n';
}

describe('cold move and drain between two hypervisors (libvirt test drivers)', () => {
  let h: Harness;
  const remote = new LibvirtHypervisor({ uri: REMOTE_URI, logger: silentLogger });
  const vm = (i: string) => `dcm-${run}-${i}`;
  const halted = [vm('a'), vm('b')];
  const pinned = vm('pin');
  const running = vm('run');
  const all = [...halted, pinned, running];
  const facts = (s: VirtualMachineStatus | undefined) => s && { mac: s.allocations.mac, vlan: s.allocations.vlan, uuid: s.domain?.uuid };
  const before: Record<string, unknown> = {};
  const scheduled = (name: string) => h.status(name)?.conditions.find((c) => c.type === 'Scheduled');

  beforeAll(async () => {
    await remote.connect();
    h = await Harness.create({
      files: {
        'local.yaml': hypervisorYaml('local', 'test:///default'),
        // Cordoned at first: every VM lands on local.
        'remote.yaml': hypervisorYaml('remote', REMOTE_URI, ['  unschedulable: true']),
        ...Object.fromEntries(halted.map((n) => [`${n}.yaml`, vmYaml({ name: n, runStrategy: 'Halted' })])),
        [`${pinned}.yaml`]: vmYaml({ name: pinned, runStrategy: 'Halted', extra: '  nodeName: local' }),
        [`${running}.yaml`]: vmYaml({ name: running }),
      },
    });
    h.flags = { listen: '127.0.0.1:0' }; // the legacy API, which must answer for VMs on either host
    await h.start();
    for (const n of all) await eventually(() => h.status(n)?.nodeName === 'local' && ['Stopped', 'Running'].includes(h.status(n)!.printableStatus), `${n} on local`);
    for (const n of all) before[n] = facts(h.status(n));
  });

  afterAll(async () => {
    for (const n of all) h.remove(`${n}.yaml`);
    await eventually(async () => (await Promise.all(all.map(async (n) => (await remote.getDomain(n)) ?? (await h.observer.getDomain(n))))).every((d) => !d), 'the VMs gone from both hosts', 30_000).catch(() => undefined);
    await h?.dispose();
    await remote.close();
  });

  it('uncordon, then spec.nodeName of a stopped VM changed: a cold move, one definition on the new host, none on the old, same uuid, MAC and VLAN', async () => {
    expect((await cli('uncordon', 'remote', '--dir', h.dir)).out).toBe('hypervisor/remote uncordoned\n');
    const name = halted[0]!;
    h.write(`${name}.yaml`, vmYaml({ name, runStrategy: 'Halted', extra: '  nodeName: remote' }));
    await eventually(() => h.status(name)?.nodeName === 'remote' && h.status(name)?.printableStatus === 'Stopped', `${name} Stopped on remote`);
    expect(await h.observer.getDomain(name)).toBeUndefined();
    const there = await remote.getDomain(name);
    expect(there?.state).toBe('shutoff');
    expect(facts(h.status(name))).toEqual(before[name]);
    expect(there?.uuid).toBe((before[name] as { uuid: string }).uuid);
    expect(h.logs.join('\n')).toContain('a move permits removing the old definition');
    expect(scheduled(name)).toMatchObject({ reason: 'Scheduled' });
    // The old service's vmlist and vmstat keep working across hosts: vmstat reads the new host.
    const legacy = (path: string) => fetch(`http://127.0.0.1:${h.running!.httpAddress!.port}/wimaxvm/${path}`);
    expect(await (await legacy('vmlist')).text()).toContain(name);
    const stat = await legacy(`vmstat?vmname=${name}`);
    expect(stat.status).toBe(200);
    expect(await stat.text()).toContain(`<uuid>${there!.uuid}</uuid>`);
  });

  it('drain: refuses the pinned VM without --force (cordoned anyway); with --force a running guest the driver cannot migrate fails the drain with libvirt\'s reason', async () => {
    const refused = await cli('drain', 'local', '--dir', h.dir, '--state-dir', h.stateDir);
    expect(refused.code, refused.out + refused.err).toBe(1);
    expect(refused.out, refused.err).toBe('hypervisor/local cordoned\n');
    expect(refused.err).toBe(`error: cannot drain hypervisor/local: 1 VM(s) pinned to it by spec.nodeName (use --force to unpin them so the scheduler moves them): ${pinned}\n`);
    const failed = await cli('drain', 'local', '--dir', h.dir, '--state-dir', h.stateDir, '--force', '--timeout', '60s');
    expect(failed.code, failed.out + failed.err).toBe(1);
    expect(failed.out, failed.err).toContain(`virtualmachine/${pinned} unpinned (spec.nodeName local removed)`);
    expect(failed.err, failed.out).toMatch(new RegExp(`^error: cannot drain hypervisor/local: virtualmachine/${running}: live migration to remote failed: .*support.*; it stays on local`));
    await h.waitForStatus(running, 'Running'); // the failed move's last write may still say Migrating
    expect(await h.observer.getDomain(running)).toMatchObject({ state: 'running' });
    expect(await remote.getDomain(running)).toBeUndefined();
  });

  it('drain again once that guest is stopped: every VM moved cold, progress lines, exit 0, nothing left on local, MAC/VLAN/uuid unchanged; uncordon', async () => {
    h.write(`${running}.yaml`, vmYaml({ name: running, runStrategy: 'Halted' }));
    const r = await cli('drain', 'local', '--dir', h.dir, '--state-dir', h.stateDir, '--timeout', '60s');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/hypervisor\/local drained\n$/);
    expect(r.out).toContain(`virtualmachine/${running} moved to remote`); // the others may have moved during the failed drain already
    for (const n of [halted[1]!, pinned, running]) {
      expect(h.status(n)?.nodeName).toBe('remote');
      expect(await h.observer.getDomain(n)).toBeUndefined();
      expect((await remote.getDomain(n))?.uuid).toBe((before[n] as { uuid: string }).uuid);
      expect(facts(h.status(n))).toEqual(before[n]);
    }
    const hv = h.running!.statuses.get('Hypervisor/default/local')?.status as { vms?: string[] };
    expect(hv.vms ?? []).toEqual([]);
    expect((await cli('uncordon', 'local', '--dir', h.dir)).code).toBe(0);
    expect(h.dir && (await import('node:fs')).readFileSync(`${h.dir}/local.yaml`, 'utf8')).not.toMatch(/unschedulable|wimaxvm.io\/drain/);
  });
});
