import { describe, expect, it } from 'vitest';
import { DomainEventRouter, isNews, type LastState } from '../../src/observers/domain-events.js';
import type { HypervisorEvent, LifecycleEvent } from '../../src/ports/hypervisor.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';

const life = (event: LifecycleEvent, detail = ''): HypervisorEvent => ({ kind: 'lifecycle', domain: 'd', event, detail });

describe('which domain events are news to the controller', () => {
  const rows: [HypervisorEvent, LastState, boolean][] = [
    [life('stopped', 'destroyed'), 'running', true], // virsh destroy
    [life('stopped', 'destroyed'), 'shutoff', false], // our own destroy, already seen
    [life('stopped', 'shutdown'), 'shutdown', true],
    [life('started', 'booted'), 'shutoff', true], // virsh start
    [life('started', 'booted'), 'running', false], // our own start
    [life('crashed', 'panicked'), 'running', true],
    [life('crashed', 'panicked'), 'crashed', false],
    [life('suspended', 'paused'), 'running', true],
    [life('resumed', 'unpaused'), 'paused', true],
    [life('undefined', 'removed'), 'shutoff', true],
    [life('undefined', 'removed'), 'absent', false],
    [life('defined', 'added'), undefined, true], // a domain we never saw
    [life('defined', 'added'), 'absent', true],
    [life('defined', 'updated'), 'running', false], // our own define; a hand edit waits for the resync
    [life('shutdown', 'finished'), 'running', false], // 'stopped' follows
    [{ kind: 'reboot', domain: 'd' }, 'running', false],
    [{ kind: 'device-removed', domain: 'd', alias: 'net1' }, 'running', true],
    [{ kind: 'connection-closed', reason: 'eof' }, 'running', false],
  ];
  it.each(rows)('%j after %s → %s', (event, last, news) => {
    expect(isNews(event, last)).toBe(news);
  });
});

describe('DomainEventRouter', () => {
  it('judges an event once the reconcile in flight is done, against what it saw', async () => {
    const hv = new FakeHypervisor();
    hv.defineBehindBack(`<domain type='test'><name>d</name><uuid>6f1b5c2e-3f0a-4b7e-9c1d-2a3b4c5d6e7f</uuid><memory unit='KiB'>65536</memory></domain>`);
    const seen: string[] = [];
    let last: LastState = 'shutoff';
    const pending: (() => void)[] = [];
    let busy = true;
    const router = new DomainEventRouter(hv, (d) => seen.push(d), () => last, (_d, fn) => (busy ? pending.push(fn) : fn()));
    router.start();
    hv.startBehindBack('d'); // as if our own reconcile started it
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([]); // waits for the reconcile
    last = 'running'; // ... which saw it running
    busy = false;
    pending.splice(0).forEach((fn) => fn());
    expect(seen).toEqual([]); // no news

    hv.stopBehindBack('d'); // virsh destroy
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['d']);
    router.stop();
    hv.startBehindBack('d');
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['d']); // unsubscribed
  });
});
