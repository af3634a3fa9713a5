// Lease arithmetic: durations, when a lease starts and restarts, the warning time, and what the
// lease asks of a reconcile (tables; pure functions, the clock passed in).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CRDS_DIR } from '../../src/package-root.js';
import { expiresCell, humanDuration, LEASE_DURATION_PATTERN, parseLeaseDuration } from '../../src/leases/duration.js';
import { currentLease, warningLeadMs, type LeaseRecord } from '../../src/leases/lease-clock.js';
import { decideLease, MAX_LEASE_WAIT_MS } from '../../src/leases/lease-decision.js';

const S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;
const T0 = Date.parse('2026-12-03T10:00:00.000Z');
const at = (ms: number) => new Date(ms).toISOString();
const record = (startMs: number, durationMs: number, renewedAt?: string): LeaseRecord => ({ startedAt: at(startMs), expiresAt: at(startMs + durationMs), ...(renewedAt ? { renewedAt } : {}) });

describe('lease durations', () => {
  it.each([
    ['45s', 45 * S], ['90m', 90 * M], ['2h', 2 * H], ['1h30m', 90 * M], ['3d', 3 * D], ['1d12h', 36 * H],
    ['1d2h3m4s', D + 2 * H + 3 * M + 4 * S], ['3s', 3 * S], ['99999d', 99999 * D],
  ])('%s is %d ms', (text, ms) => {
    expect(parseLeaseDuration(text)).toBe(ms);
  });

  it.each([
    '', '0', '0s', '1h0m', '2', '2 h', '2hours', 'h', '1.5h', '-1h', '30m1h', '1h1h', '01h', '100000d', '1w', ' 2h', '2h\n', 'P1D', 'Infinity',
  ])('%j is refused with what a duration looks like', (text) => {
    expect(() => parseLeaseDuration(text)).toThrow(/invalid lease duration .*largest unit first \(90m, 2h, 1h30m, 3d/);
  });

  it.each([[undefined], [7200], [null]])('a %j is refused', (value) => {
    expect(() => parseLeaseDuration(value)).toThrow(/invalid lease duration/);
  });

  it("is the CRD's pattern for spec.lease.duration (file mode and the API server refuse the same text)", () => {
    const crd = parse(readFileSync(join(CRDS_DIR, 'virtualmachines.wimaxvm.io.yaml'), 'utf8'));
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
    expect(spec.lease.properties.duration.pattern).toBe(LEASE_DURATION_PATTERN);
    expect(spec.lease.properties.onExpiry.enum).toEqual(['Stop', 'Delete', 'Save']);
  });
});

describe('the EXPIRES column', () => {
  it.each([
    [0, '0s'], [59 * S, '59s'], [119 * S, '119s'], [3 * M + 20 * S, '3m20s'], [5 * M, '5m'], [72 * M, '72m'], [3 * H + 12 * M, '3h12m'],
    [20 * H, '20h'], [2 * D + 5 * H, '2d5h'], [12 * D, '12d'], [3 * 365 * D, '3y'],
  ])('%d ms reads %s, as kubectl prints ages', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it.each([
    [undefined, '<none>'], [at(T0 + 72 * M + 30 * S), '72m'], [at(T0), 'expired'], [at(T0 - H), 'expired'], ['not a time', '<unknown>'],
  ])('expiresAt %s shows %s', (expiresAt, cell) => {
    expect(expiresCell(expiresAt, T0)).toBe(cell);
  });
});

describe('when a lease starts', () => {
  const lease = { duration: '2h' };
  it.each([
    ['first seen: starts now', { lease }, 'declared', T0],
    ['remembered: holds', { lease, remembered: record(T0 - H, 2 * H) }, undefined, T0 - H],
    ['remembered in the metadata only, expired: stays expired', { lease, remembered: record(T0 - 3 * H, 2 * H) }, undefined, T0 - 3 * H],
    ['duration edited: starts again now', { lease: { duration: '3h' }, remembered: record(T0 - H, 2 * H) }, 'edited', T0],
    ['same span written differently: holds', { lease: { duration: '120m' }, remembered: record(T0 - H, 2 * H) }, undefined, T0 - H],
    ['renewal annotation set: starts again now', { lease, remembered: record(T0 - H, 2 * H), renewRequest: 'r1' }, 'renewed', T0],
    ['renewal annotation already acted on: holds', { lease, remembered: record(T0 - H, 2 * H, 'r1'), renewRequest: 'r1' }, undefined, T0 - H],
    ['renewal annotation taken away: holds', { lease, remembered: record(T0 - H, 2 * H, 'r1') }, undefined, T0 - H],
    ['expired and renewed: starts again now', { lease, remembered: record(T0 - 5 * H, 2 * H, 'r1'), renewRequest: 'r2' }, 'renewed', T0],
    ['a renewal there at the first sight is part of the start', { lease, renewRequest: 'r1' }, 'declared', T0],
    ['started in the future (the clock went back): starts now', { lease, remembered: record(T0 + 10 * M, 2 * H) }, 'clockWentBack', T0],
    ['an unreadable record: starts now', { lease, remembered: { startedAt: 'x', expiresAt: 'y' } }, 'declared', T0],
  ])('%s', (_, input, started, startMs) => {
    const now = currentLease({ nowMs: T0, ...input });
    expect(now.started).toBe(started);
    expect(now.record.startedAt).toBe(at(startMs));
    expect(Date.parse(now.record.expiresAt) - Date.parse(now.record.startedAt)).toBe(now.durationMs);
  });

  it('remembers the renewal it acted on, so the same value does not renew again', () => {
    const first = currentLease({ lease, remembered: record(T0 - H, 2 * H), renewRequest: 'r1', nowMs: T0 });
    expect(first.record.renewedAt).toBe('r1');
    expect(currentLease({ lease, remembered: first.record, renewRequest: 'r1', nowMs: T0 + H }).started).toBeUndefined();
  });
});

describe('the warning before expiry', () => {
  it.each([
    [3 * S, 3 * S], [30 * S, 30 * S], [5 * M, M], [10 * M, M], [20 * M, 2 * M], [90 * M, 9 * M], [2 * H, 12 * M], [3 * H, 15 * M], [3 * D, 15 * M],
  ])('a lease of %d ms warns %d ms ahead (10 %%, at least 1 min, at most 15 min, at most the lease)', (duration, lead) => {
    expect(warningLeadMs(duration)).toBe(lead);
  });
});

describe('what a lease asks of a reconcile', () => {
  const base = { generation: 4, nowMs: T0 };
  const reasons = (d: ReturnType<typeof decideLease>) => d.events.map((e) => e.reason);

  it('no lease: nothing remembered, no condition, no override, no wake-up', () => {
    expect(decideLease(base)).toEqual({ events: [] });
  });

  it.each([
    // name, input, events, condition reason/status, expiry power, requeue
    ['new 2h lease: wakes within the cap', { lease: { duration: '2h' } }, ['LeaseStarted'], ['True', 'Active'], undefined, MAX_LEASE_WAIT_MS],
    ['in force, far from expiry: wakes at the warning time', { lease: { duration: '2h' }, remembered: record(T0 - 70 * M, 2 * H), previous: { status: 'True', reason: 'Active' } }, [], ['True', 'Active'], undefined, 38 * M],
    ['a long lease wakes within the cap', { lease: { duration: '3d' }, remembered: record(T0 - H, 3 * D), previous: { status: 'True', reason: 'Active' } }, [], ['True', 'Active'], undefined, MAX_LEASE_WAIT_MS],
    ['warning time reached: warns once, wakes at expiry', { lease: { duration: '2h' }, remembered: record(T0 - 110 * M, 2 * H), previous: { status: 'True', reason: 'Active' } }, ['LeaseExpiring'], ['True', 'Expiring'], undefined, 10 * M],
    ['warned already: no second warning', { lease: { duration: '2h' }, remembered: record(T0 - 115 * M, 2 * H), previous: { status: 'True', reason: 'Expiring' } }, [], ['True', 'Expiring'], undefined, 5 * M],
    ['expired, Stop: halts, says so once', { lease: { duration: '2h' }, remembered: record(T0 - 2 * H, 2 * H), previous: { status: 'True', reason: 'Expiring' } }, ['LeaseExpired'], ['False', 'Expired'], 'Halted', undefined],
    ['expired, said already: stays halted, silent', { lease: { duration: '2h' }, remembered: record(T0 - 5 * H, 2 * H), previous: { status: 'False', reason: 'Expired' } }, [], ['False', 'Expired'], 'Halted', undefined],
    ['expired, Save: saved', { lease: { duration: '2h', onExpiry: 'Save' as const }, remembered: record(T0 - 3 * H, 2 * H) }, ['LeaseExpired'], ['False', 'Expired'], 'Saved', undefined],
    ['expired, Delete: removed', { lease: { duration: '2h', onExpiry: 'Delete' as const }, remembered: record(T0 - 3 * H, 2 * H) }, ['LeaseExpired'], ['False', 'Expired'], 'Removed', undefined],
    ['expired while the controller was down: no late warning, expired at once', { lease: { duration: '2h' }, remembered: record(T0 - 9 * H, 2 * H), previous: { status: 'True', reason: 'Active' } }, ['LeaseExpired'], ['False', 'Expired'], 'Halted', undefined],
    ['expired and renewed: in force again, no override', { lease: { duration: '2h' }, remembered: record(T0 - 5 * H, 2 * H), renewRequest: 'r9', previous: { status: 'False', reason: 'Expired' } }, ['LeaseRenewed'], ['True', 'Active'], undefined, MAX_LEASE_WAIT_MS],
    ['expired and duration edited: in force again', { lease: { duration: '1h' }, remembered: record(T0 - 5 * H, 2 * H), previous: { status: 'False', reason: 'Expired' } }, ['LeaseRenewed'], ['True', 'Active'], undefined, 54 * M],
    ['a 3s lease warns at its start and wakes at expiry', { lease: { duration: '3s' } }, ['LeaseStarted', 'LeaseExpiring'], ['True', 'Expiring'], undefined, 3 * S],
    ['renewed inside the warning window: warns again for the new lease', { lease: { duration: '3s' }, remembered: record(T0 - 2 * S, 3 * S), renewRequest: 'r1', previous: { status: 'True', reason: 'Expiring' } }, ['LeaseRenewed', 'LeaseExpiring'], ['True', 'Expiring'], undefined, 3 * S],
  ])('%s', (_, input, events, [status, reason], power, requeue) => {
    const d = decideLease({ ...base, ...input });
    expect(reasons(d)).toEqual(events);
    expect(d.condition).toMatchObject({ type: 'Lease', status, reason, observedGeneration: 4 });
    expect(d.expiry?.power).toBe(power);
    expect(d.requeueAfterMs).toBe(requeue);
  });

  it('an invalid duration is never applied: no override, a condition and one warning', () => {
    const d = decideLease({ ...base, lease: { duration: '2 hours' }, remembered: record(T0 - 5 * H, 2 * H) });
    expect(d.expiry).toBeUndefined();
    expect(d.record).toBeUndefined();
    expect(d.condition).toMatchObject({ status: 'False', reason: 'InvalidLease' });
    expect(d.condition!.message).toMatch(/invalid lease duration "2 hours".*not applied/);
    expect(reasons(d)).toEqual(['LeaseInvalid']);
    expect(reasons(decideLease({ ...base, lease: { duration: '2 hours' }, previous: { reason: 'InvalidLease' } }))).toEqual([]);
  });

  it('the expired message says what happened and how to renew', () => {
    const d = decideLease({ ...base, lease: { duration: '2h', onExpiry: 'Delete' }, remembered: record(T0 - 3 * H, 2 * H) });
    expect(d.events[0]).toMatchObject({ type: 'Warning' });
    expect(d.events[0]!.message).toMatch(/expired at 2026-12-03T09:00:00.000Z: the domain and its disk overlays are removed \(the declaration stays\); edit spec.lease.duration or set the wimaxvm.io\/renewedAt annotation/);
  });
});
