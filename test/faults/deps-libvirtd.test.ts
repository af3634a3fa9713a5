// Dependencies restarting, libvirt: the controller as users run it (bin/wimaxvm.js, its own
// process) against a libvirtd of the test's own (PrivateLibvirtd: a session daemon in a
// temporary directory, killed and started again by its pid; its guests are real QEMU processes).
// Unreachable at start, the controller waits and says why on /readyz instead of exiting; killed
// under load, libvirtd is waited out; no guest is stopped, restarted or deleted because of it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliChild } from '../helpers/cli-child.js';
import { eventually, vmYaml } from '../helpers/harness.js';
import { PrivateLibvirtd, privateLibvirtdEnabled } from '../helpers/private-libvirtd.js';

const enabled = privateLibvirtdEnabled();
const run = Math.random().toString(36).slice(2, 6);
const vm = (i: number): string => `dl-${run}-${i}`;

type Controller = CliChild;

function startController(args: string[], env: Record<string, string>): Controller {
  return spawnCli(['run', ...args], { ...process.env, ...env, WIMAXVM_DEBUG: '' });
}

/** The port the controller's HTTP API listens on, from its log. */
async function apiPort(c: Controller): Promise<number> {
  return eventually(() => Number(/"msg":"HTTP API listening","address":"127\.0\.0\.1:(\d+)"/.exec(c.out() + c.err())?.[1]) || undefined, 'the API to listen');
}

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: r.status, body: await r.text() };
}

describe.runIf(enabled)('libvirtd unreachable at start, then killed and restarted under load', () => {
  const daemon = new PrivateLibvirtd();
  const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-deps-vms-'));
  const env = { WIMAXVM_STATE_HOME: mkdtempSync(join(tmpdir(), 'wimaxvm-deps-state-')) };
  const controllers: Controller[] = [];
  let controller: Controller;
  let port: number;

  beforeAll(() => {
    for (const i of [1, 2, 3]) writeFileSync(join(dir, `${vm(i)}.yaml`), vmYaml({ name: vm(i) }));
  });

  afterAll(async () => {
    for (const c of controllers) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await daemon.dispose();
  });

  it('SIGTERM while libvirtd is unreachable at start: a clean stop, exit 0, no stack', async () => {
    const c = startController(['--dir', mkdtempSync(join(tmpdir(), 'wimaxvm-deps-empty-')), '--connect', `qemu+unix:///session?socket=${daemon.dir}/nobody-listens.sock`, '--listen', '127.0.0.1:0'], env);
    controllers.push(c);
    const p = await apiPort(c);
    expect((await readyz(p)).body).toMatch(/^not ready: libvirt .* is not connected \(.*Failed to connect socket.*\); retrying\n$/);
    c.kill('SIGTERM');
    expect(await c.done).toBe(0);
    expect(c.err()).not.toMatch(/TypeError|^\s+at /m);
    expect(c.out() + c.err()).toContain('stopped before it had started');
  });

  it('unreachable at start: the controller stays up, /readyz says why; once libvirtd is there, the VMs converge', async () => {
    controller = startController(['--dir', dir, '--connect', daemon.uri, '--listen', '127.0.0.1:0', '--poll', '200ms', '--shutdown-timeout', '2s'], env);
    controllers.push(controller);
    port = await apiPort(controller);
    const waiting = await readyz(port);
    expect(waiting.status).toBe(503);
    expect(waiting.body).toMatch(/^not ready: libvirt qemu\+unix:\/\/\/session\?socket=\S+ is not connected \(.*\); retrying\n$/);
    expect(controller.out() + controller.err()).toContain('libvirt is not reachable; waiting for it');
    expect(controller.exitCode).toBeNull();

    await daemon.start();
    // Started as the controller sees it (a guest shows in `virsh list` before its start returns).
    await eventually(() => [1, 2, 3].every((i) => (controller.out() + controller.err()).includes(`"msg":"started ${vm(i)}"`) && daemon.runningIds().has(vm(i))), 'the three guests started', 90_000)
      .catch((err) => { throw new Error(`${err}; log: ${(controller.out() + controller.err()).split('\n').filter((l) => !l.includes('"debug"')).slice(-30).join('\n')}`); });
    await eventually(async () => (await readyz(port)).status === 200, '/readyz ok');
  }, 150_000);

  it('libvirtd killed under load and started again: /readyz honest, changes made meanwhile applied, no guest restarted or deleted', async () => {
    const ids = daemon.runningIds();
    // Load: a new VM and a change while libvirtd goes away.
    writeFileSync(join(dir, `${vm(4)}.yaml`), vmYaml({ name: vm(4) }));
    await daemon.kill('SIGKILL');
    const down = await eventually(async () => { const r = await readyz(port); return r.status === 503 ? r : undefined; }, '/readyz to say not ready');
    expect(down.body).toMatch(/^not ready: libvirt .* is not connected/);
    writeFileSync(join(dir, `${vm(5)}.yaml`), vmYaml({ name: vm(5) }));
    await daemon.start();
    await eventually(() => [4, 5].every((i) => (controller.out() + controller.err()).includes(`"msg":"started ${vm(i)}"`) && daemon.runningIds().has(vm(i))), 'the guests declared meanwhile started', 90_000);
    await eventually(async () => (await readyz(port)).status === 200, '/readyz ok again');
    const now = daemon.runningIds();
    for (const i of [1, 2, 3]) expect(now.get(vm(i)), controller.out() + controller.err()).toBe(ids.get(vm(i))); // same QEMU process: never stopped
    expect(controller.out() + controller.err()).toContain('libvirt connection restored');
    expect(controller.exitCode).toBeNull();
  }, 150_000);

  it('SIGTERM: a graceful stop, exit 0; the guests keep running', async () => {
    const ids = daemon.runningIds();
    controller.kill('SIGTERM');
    expect(await controller.done).toBe(0);
    expect(controller.err()).not.toMatch(/TypeError|^\s+at /m);
    expect(daemon.runningIds()).toEqual(ids);
  });
});
