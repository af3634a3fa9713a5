// `wimaxvm drain` waits for room as kubectl drain retries a refused eviction (file mode, the real
// engine on two libvirt test drivers: test:///default in this process, "local", and libvirtd's
// test+unix:///default, "remote", shared with other tests: names here are unique). A VM with
// nowhere to go is said once and waited for; a host uncordoned meanwhile takes it and the drain
// ends 0; the timeout ends it 1 with the VM's reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hypervisor, HypervisorStatus } from '../../src/api/hypervisor.js';
import { LibvirtHypervisor } from '../../src/adapters/libvirt/libvirt-hypervisor.js';
import { silentLogger } from '../../src/core/logger.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { cli, cliLive } from '../helpers/run-cli.js';

const run = Math.random().toString(36).slice(2, 6);
const REMOTE_URI = 'test+unix:///default';

function hypervisorYaml(name: string, uri: string, state: { cordoned?: boolean; drained?: boolean } = {}): string {
  return [
    'apiVersion: wimaxvm.io/v1alpha1', 'kind: Hypervisor', 'metadata:', `  name: ${name}`,
    ...(state.drained ? ['  annotations:', '    wimaxvm.io/drain: "2026-01-01T00:00:00Z"'] : []),
    'spec:', `  uri: "${uri}"`, ...(state.cordoned ? ['  unschedulable: true'] : []),
  ].join('\n') + '\n';
}

describe('drain waits for room (file mode, libvirt test drivers)', () => {
  let h: Harness;
  const remote = new LibvirtHypervisor({ uri: REMOTE_URI, logger: silentLogger });
  const name = `dw-${run}`;
  const scheduled = () => h.status(name)?.conditions.find((c) => c.type === 'Scheduled');

  beforeAll(async () => {
    await remote.connect();
    h = await Harness.create({
      files: {
        'local.yaml': hypervisorYaml('local', 'test:///default'),
        'remote.yaml': hypervisorYaml('remote', REMOTE_URI, { cordoned: true }), // no room anywhere but local
      },
    });
    await h.start();
    // Declared once both hosts are Ready: placed at once, no Unschedulable retry left pending.
    const ready = (hv: string) => (h.running!.statuses.get(`Hypervisor/default/${hv}`)?.status as HypervisorStatus | undefined)?.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
    await eventually(() => ready('local') && ready('remote'), 'both Hypervisors Ready');
    h.write(`${name}.yaml`, vmYaml({ name, runStrategy: 'Halted' }));
    await eventually(() => h.status(name)?.nodeName === 'local' && h.status(name)?.printableStatus === 'Stopped', `${name} Stopped on local`);
  });

  afterAll(async () => {
    h?.remove(`${name}.yaml`);
    await eventually(async () => !(await remote.getDomain(name)) && !(await h.observer.getDomain(name)), 'the VM gone from both hosts', 30_000).catch(() => undefined);
    await h?.dispose();
    await remote.close();
  });

  it('nowhere to go until the timeout: exit 1 naming the VM and its reason, the blocked line said once', async () => {
    // Drained before drain runs (what an earlier drain leaves), so the status drain reads first says why.
    h.write('local.yaml', hypervisorYaml('local', 'test:///default', { cordoned: true, drained: true }));
    await eventually(() => scheduled()?.reason === 'DrainBlocked', `${name} DrainBlocked`);
    const r = await cli('drain', 'local', '--dir', h.dir, '--state-dir', h.stateDir, '--timeout', '1s');
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toMatch(new RegExp(`^error: hypervisor/local not drained after 1s: still there: ${name} \\(DrainBlocked: runs on local, which is being drained; it stays: 0/2 hypervisors are available: 2 hypervisor\\(s\\) were cordoned\\.\\)\\n$`));
    expect(r.out.match(/DrainBlocked/g)).toHaveLength(1);
    expect(h.status(name)?.nodeName).toBe('local');
  });

  it('blocked, then another host uncordoned while drain waits: the VM moves there and drain exits 0', async () => {
    const local = () => h.running!.store.get<Hypervisor>('Hypervisor/default/local');
    const drainedAt = local()?.metadata.annotations?.['wimaxvm.io/drain'];
    const drain = cliLive('drain', 'local', '--dir', h.dir, '--state-dir', h.stateDir, '--timeout', '60s');
    await eventually(() => drain.out().includes(`virtualmachine/${name} DrainBlocked: `) || drain.err(), 'drain saying the VM is blocked');
    expect(drain.err()).toBe('');
    // Everything drain's own edit of local wakes has run (local's new annotation seen, its status
    // written, the VMs it woke reconciled): only remote's uncordon can wake the VM from here.
    await eventually(() => local()?.metadata.annotations?.['wimaxvm.io/drain'] !== drainedAt
      && (h.running!.statuses.get('Hypervisor/default/local')?.status as HypervisorStatus | undefined)?.observedGeneration === local()?.metadata.generation, "drain's edit of local seen");
    await h.running!.idle();
    // Nor a requeue timer left from earlier (none is expected: the VM was declared on Ready
    // hosts): the queue's private map of delayed keys, read here only.
    const delayed = (h.running!.controller.queue as unknown as { waiting: Map<string, unknown> }).waiting;
    await eventually(() => !delayed.has(`VirtualMachine/default/${name}`), 'no delayed requeue of the VM pending', 30_000);
    expect(scheduled()?.reason).toBe('DrainBlocked');
    h.write('remote.yaml', hypervisorYaml('remote', REMOTE_URI));
    const r = await drain.done;
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`virtualmachine/${name} moved to remote\n`);
    expect(r.out).toMatch(/hypervisor\/local drained\n$/);
    expect(r.out.match(/DrainBlocked/g)).toHaveLength(1);
    expect(h.status(name)?.nodeName).toBe('remote');
    expect(await h.observer.getDomain(name)).toBeUndefined();
    expect((await remote.getDomain(name))?.state).toBe('shutoff');
  }, 120_000);
});
