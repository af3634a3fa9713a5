// spec.powerState with the tiny real guest on qemu:///system, one boot: Paused stops its
// counter, Running resumes it where it was; Saved leaves the domain off with a managed-save
// image, Running restores it (same boot id, the counter goes on); a paused guest asked to halt is
// resumed and powers off on ACPI. Figures go to the log, not into assertions.
import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ensureRealGuestDisk, GUEST_SAYS, REAL_GUEST_MEMORY, wimaxvmSerialLog, type SerialLog } from '../helpers/real-guest/index.js';
import { answers, systemTestsEnabled, virsh } from '../helpers/system.js';
import { serialLogPath } from '../../src/reconcilers/virtual-machine/domain-xml.js';

const enabled = systemTestsEnabled();
const VM = `pwr-${Math.random().toString(36).slice(2, 7)}`;
/** The guest prints a counter line a second: a window of several is one it cannot keep quiet through while it runs. */
const QUIET_WINDOW_MS = 4_000;
const figures: Record<string, string> = {};

const domstate = () => virsh('domstate', '--reason', VM).trim();
const quietWindow = () => new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));

describe.runIf(enabled)('a real guest paused, resumed, saved and restored by its declaration', () => {
  let h: Harness;
  let disk: string;
  let log: SerialLog;
  const declare = (powerState?: string, runStrategy = 'Always') => h.write('guest.yaml', vmYaml({
    name: VM, runStrategy, memory: REAL_GUEST_MEMORY,
    extra: `  disks:\n    - image: ${basename(disk)}${powerState ? `\n  powerState: ${powerState}` : ''}`,
  }));

  beforeAll(async () => {
    disk = await ensureRealGuestDisk();
    h = await Harness.create({ uri: 'qemu:///system', flags: { 'image-dir': dirname(disk), 'shutdown-timeout': '60s', poll: '200ms' } });
    log = wimaxvmSerialLog(VM);
    declare();
    await h.start();
    await h.waitForStatus(VM, 'Running', 60_000);
    await log.waitForReady({ timeoutMs: 180_000 });
    await eventually(() => log.counters().length >= 2, 'the guest counting', 60_000);
  }, 300_000);

  afterAll(async () => {
    await h?.stop();
    answers('virsh', '-c', 'qemu:///system', 'destroy', VM);
    answers('virsh', '-c', 'qemu:///system', 'undefine', '--managed-save', VM);
    await h?.dispose();
    rmSync(serialLogPath(VM), { force: true });
    console.log(`power state (${VM}): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  it('Paused: the counter stops; Running: it goes on from the next number, same boot', async () => {
    let t = Date.now();
    declare('Paused');
    await h.waitForStatus(VM, 'Paused', 60_000);
    figures.pause = `${Date.now() - t} ms from powerState Paused to status Paused`;
    expect(domstate()).toBe('paused (user)');
    await quietWindow(); // lines the guest wrote before the pause reach the log file (virtlogd)
    const frozen = log.counters().at(-1)!;
    await quietWindow();
    expect(log.counters().at(-1)).toEqual(frozen);
    const mark = log.size();
    t = Date.now();
    declare('Running');
    await h.waitForStatus(VM, 'Running', 60_000);
    figures.resume = `${Date.now() - t} ms from powerState Running to status Running`;
    const after = await eventually(() => { const c = log.counters(mark); return c.length >= 2 ? c : undefined; }, 'counting again', 60_000);
    expect(after.slice(0, 2)).toEqual([{ n: frozen.n + 1, boot: frozen.boot }, { n: frozen.n + 2, boot: frozen.boot }]);
  }, 180_000);

  it('Saved: off with a managed-save image; Running restores it with its memory (same boot id, the counter goes on)', async () => {
    let t = Date.now();
    declare('Saved');
    await h.waitForStatus(VM, 'Saved', 120_000);
    figures.save = `${Date.now() - t} ms from powerState Saved to status Saved (${REAL_GUEST_MEMORY} guest)`;
    expect(domstate()).toBe('shut off (saved)');
    expect(virsh('dominfo', VM)).toMatch(/Managed save:\s+yes/);
    const saved = log.counters().at(-1)!;
    const mark = log.size();
    t = Date.now();
    declare('Running');
    await h.waitForStatus(VM, 'Running', 120_000);
    figures.restore = `${Date.now() - t} ms from powerState Running to status Running`;
    expect(domstate()).toBe('running (restored)');
    // A guest booted afresh would print a ready line and count from 1 under another boot id.
    const after = await eventually(() => { const c = log.counters(mark); return c.length >= 3 ? c.slice(0, 3) : undefined; }, 'three counter lines after the restore', 60_000);
    expect(after.map((c) => c.boot)).toEqual([saved.boot, saved.boot, saved.boot]);
    expect(after[0]!.n).toBeGreaterThan(saved.n);
    expect(after.map((c) => c.n - after[0]!.n)).toEqual([0, 1, 2]);
    expect(log.text(mark)).not.toMatch(GUEST_SAYS.ready);
    expect(virsh('dominfo', VM)).toMatch(/Managed save:\s+no/);
  }, 240_000);

  it('a paused guest asked to halt is resumed and powers off on ACPI (not destroyed)', async () => {
    declare('Paused');
    await h.waitForStatus(VM, 'Paused', 60_000);
    const mark = log.size();
    const t = Date.now();
    declare('Paused', 'Halted');
    await h.waitForStatus(VM, 'Stopped', 90_000);
    figures.haltPaused = `${Date.now() - t} ms from Halted to Stopped`;
    expect(domstate()).toBe('shut off (shutdown)');
    expect(log.text(mark)).toMatch(GUEST_SAYS.powerButton);
  }, 120_000);
});
