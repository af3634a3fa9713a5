// The Hypervisor kind in file mode, through the real engine on libvirt's test driver: declared in
// the watched directory, its status (capacity and allocatable from libvirt's node figures minus
// wimaxvm's VMs, the VMs, Ready) kept by the controller, `get hypervisors|hv`, Ready=False with
// libvirt's error for a host that does not answer, and the status gone with the declaration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HypervisorStatus } from '../../src/api/hypervisor.js';
import { randomUUID } from 'node:crypto';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { cli } from '../helpers/run-cli.js';

const run = Math.random().toString(36).slice(2, 6);
const vm = `hvit-${run}`;

function hypervisorYaml(name: string, uri: string, extra: string[] = []): string {
  return ['apiVersion: wimaxvm.io/v1alpha1', 'kind: Hypervisor', 'metadata:', `  name: ${name}`, '  labels: { rack: r1 }', 'spec:', `  uri: "${uri}"`, ...extra].join('\n') + '\n';
}

describe('Hypervisor declarations in the watched directory', () => {
  let h: Harness;
  const status = (name: string): HypervisorStatus | undefined => h.running?.statuses.get(`Hypervisor/default/${name}`)?.status as HypervisorStatus | undefined;
  const ready = (name: string) => status(name)?.conditions.find((c) => c.type === 'Ready');

  beforeAll(async () => {
    h = await Harness.create({
      files: {
        'local.yaml': hypervisorYaml('local', 'test:///default', ['  overcommit: { memory: 1.5 }']),
        'gone.yaml': hypervisorYaml('gone', `qemu+unix:///session?socket=/tmp/wimaxvm-no-daemon-${run}.sock`, ['  unschedulable: true']),
        [`${vm}.yaml`]: vmYaml({ name: vm, memory: '512Mi', vcpus: 2 }),
        [`${vm}-sel.yaml`]: vmYaml({ name: `${vm}-sel`, extra: '  nodeSelector: { rack: r9 }' }),
        [`${vm}-there.yaml`]: vmYaml({ name: `${vm}-there`, extra: '  nodeName: gone' }),
      },
    });
    await h.start();
    await h.waitForStatus(vm, 'Running');
  });
  afterAll(async () => h.dispose());

  it("a reachable host: capacity from libvirt's node figures, allocatable = capacity × overcommit − wimaxvm's VMs, its VMs, Ready", async () => {
    const figures = await h.observer.nodeFigures();
    // The VM was defined before or after the first look: its share shows once the host is looked at again (a domain defined is news).
    const s = await eventually(() => (status('local')?.vms?.includes(vm) ? status('local') : undefined), 'the host to list the VM');
    expect(s.capacity).toEqual({ memory: `${figures.memoryKiB}Ki`, vcpus: figures.cpus });
    expect(s.allocatable).toEqual({ memory: `${Math.floor(figures.memoryKiB * 1.5) - 512 * 1024}Ki`, vcpus: figures.cpus - 2 });
    expect(s.vms).toEqual([vm]); // the test driver's own domain "test" is not wimaxvm's
    expect(s.vmCount).toBe(1);
    expect(s.domainType).toBe('test');
    expect(ready('local')).toMatchObject({ status: 'True', reason: 'Connected' });
  });

  it("another controller's wimaxvm domain on the same host: not among this controller's VMs (status.vms, the count), its memory still taken", async () => {
    const other = `${vm}-other`;
    const mac = '52:54:00:7e:00:01';
    await h.observer.define(buildDomainXml({
      name: other, uuid: randomUUID(), type: 'test', memoryKiB: 128 * 1024, vcpus: 1, diskPaths: [], mac, nic: { type: 'user' },
      owner: { uid: 'other-uid', namespace: 'default', name: other, generation: 1, specHash: 'h', mac, controller: 'file://another-host/srv/vms' },
    }));
    const figures = await h.observer.nodeFigures();
    const s = await eventually(() => (status('local')?.allocatable?.memory === `${Math.floor(figures.memoryKiB * 1.5) - 640 * 1024}Ki` ? status('local') : undefined), "the host to count the other controller's domain's memory");
    expect(s.vms).toEqual([vm]);
    expect(s.vmCount).toBe(1);
    expect(await h.observer.getDomain(other)).toMatchObject({ state: 'shutoff' }); // left alone
  });

  it("an unreachable host: Ready=False with libvirt's own error, and the controller goes on", () => {
    expect(ready('gone')).toMatchObject({ status: 'False', reason: 'Unreachable' });
    expect(ready('gone')?.message).toMatch(/^libvirt at qemu\+unix:\/\/\/session\?socket=\S+ does not answer: Failed to connect socket to '\S+': No such file or directory; retrying$/);
    expect(status('gone')?.capacity).toBeUndefined();
    expect(h.logs.join('\n')).toContain('"msg":"hypervisor gone: libvirt at qemu+unix');
  });

  it('get hypervisors | hv | hypervisor: one row each, a cordon shown as kubectl shows a node\'s', async () => {
    const s = status('local')!;
    for (const type of ['hypervisors', 'hv', 'hypervisor', 'Hypervisor']) {
      const r = await cli('get', type, '--dir', h.dir, '--state-dir', h.stateDir);
      expect(r.code, type).toBe(0);
      const lines = r.out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
      expect(lines[0]).toEqual(['NAME', 'READY', 'URI', 'ALLOC-MEMORY', 'CAPACITY-MEMORY', 'ALLOC-VCPUS', 'VCPUS', 'VMS', 'AGE']);
      expect(lines[1]!.slice(0, 3)).toEqual(['gone', 'False,SchedulingDisabled', expect.stringMatching(/^qemu\+unix:/)]);
      expect(lines[2]!.slice(0, 8)).toEqual(['local', 'True', 'test:///default', s.allocatable!.memory, s.capacity!.memory, String(s.allocatable!.vcpus), String(s.capacity!.vcpus), '1']);
    }
    expect((await cli('get', 'hv', 'local', '-o', 'name', '--dir', h.dir, '--state-dir', h.stateDir)).out).toBe('hypervisor/local\n');
  });

  it('placement: the scheduler puts a VM on the declared host this controller drives (status.nodeName)', async () => {
    expect(h.status(vm)?.nodeName).toBe('local');
    expect(h.status(vm)?.conditions.find((c) => c.type === 'Scheduled')).toMatchObject({ status: 'True', message: expect.stringMatching(/^(the scheduler placed it on|runs on) local$/) });
    expect(h.statusFromDisk(vm)?.nodeName).toBe('local');
  });

  it("placement: a VM no Hypervisor takes is Pending with kube-scheduler's reasons, and nothing is defined", async () => {
    const s = await h.waitForStatus(`${vm}-sel`, 'Pending');
    expect(s.conditions.find((c) => c.type === 'Scheduled')).toMatchObject({
      status: 'False', reason: 'Unschedulable',
      message: "0/2 hypervisors are available: 1 hypervisor(s) didn't match VM's node selector, 1 hypervisor(s) were not ready.",
    });
    expect(s.nodeName).toBeUndefined();
    expect(await h.domain(`${vm}-sel`)).toBeUndefined();
  });

  it('placement: a VM whose spec.nodeName is a declared host that is not Ready waits (Pending), defined nowhere', async () => {
    const s = await h.waitForStatus(`${vm}-there`, 'Pending');
    expect(s.nodeName).toBe('gone');
    expect(s.conditions.find((c) => c.type === 'Scheduled')?.message).toBe('spec.nodeName places it on gone, which is not Ready; waiting');
    expect(await h.domain(`${vm}-there`)).toBeUndefined();
  });

  it('a removed declaration takes its status along; the VM is not touched', async () => {
    h.remove('gone.yaml');
    await eventually(() => status('gone') === undefined, 'the status of gone to go');
    expect((await cli('get', 'hv', '--dir', h.dir, '--state-dir', h.stateDir)).out).not.toContain('gone');
    expect(h.status(vm)?.printableStatus).toBe('Running');
  });
});
