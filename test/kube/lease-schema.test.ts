// spec.lease in both modes: the API-server double refuses a bad duration or onExpiry with the
// words the real kube-apiserver v1.28.7 gave (seen against it with this CRD), and defaults
// onExpiry to Stop; file mode refuses the same text at its line, with what a duration looks like.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_DURATION_PATTERN } from '../../src/leases/duration.js';
import { parseManifestsCarefully } from '../../src/sources/manifest-parser.js';
import { FakeApiServer } from './api-server.js';
import { callFailure } from './call-failure.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };
const vm = (name: string, lease: unknown) => ({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { lease } });

describe('spec.lease through the API-server double', () => {
  let server: FakeApiServer;
  let custom: CustomObjectsApi;
  beforeAll(async () => {
    server = await FakeApiServer.start({ installCrds: true });
    custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
  });
  afterAll(async () => server.stop());

  it.each(['2 hours', '0s', '1h0m', '30m1h', '1.5h', '100000d'])('refuses duration %j as kube-apiserver does', async (duration) => {
    const r = await callFailure(custom.createNamespacedCustomObject({ ...VMS, body: vm('bad', { duration }) }));
    expect(r.code).toBe(422);
    expect(r.message).toBe(`VirtualMachine.wimaxvm.io "bad" is invalid: spec.lease.duration: Invalid value: ${JSON.stringify(duration)}: spec.lease.duration in body should match '${LEASE_DURATION_PATTERN}'`);
  });

  it('refuses an onExpiry it does not know', async () => {
    const r = await callFailure(custom.createNamespacedCustomObject({ ...VMS, body: vm('bad', { duration: '2h', onExpiry: 'Explode' }) }));
    expect(r.message).toBe('VirtualMachine.wimaxvm.io "bad" is invalid: spec.lease.onExpiry: Unsupported value: "Explode": supported values: "Stop", "Delete", "Save"');
  });

  it('takes a good lease, defaults onExpiry to Stop, and keeps status.expiresAt and status.lease', async () => {
    const made = await custom.createNamespacedCustomObject({ ...VMS, body: vm('leased', { duration: '1h30m' }) }) as { spec: { lease: unknown } };
    expect(made.spec.lease).toEqual({ duration: '1h30m', onExpiry: 'Stop' });
    const status = { printableStatus: 'Expired', expiresAt: '2026-12-03T11:30:00.000Z', lease: { startedAt: '2026-12-03T10:00:00.000Z', renewedAt: 'r1' } };
    const patched = await custom.patchNamespacedCustomObjectStatus({ ...VMS, name: 'leased', body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)) as { status: unknown };
    expect(patched.status).toEqual(status);
  });
});

describe('spec.lease in a file', () => {
  const doc = (lease: string) => `apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: l1\nspec:\n  lease:\n${lease}\n`;

  it('refuses a bad duration at its line, saying what a duration looks like', () => {
    const { resources, errors } = parseManifestsCarefully(doc('    duration: 2 hours'), 'l1.yaml');
    expect(resources).toEqual([]);
    expect(errors).toEqual([{ file: 'l1.yaml', line: 7, message: `spec.lease.duration: Invalid value: "2 hours": spec.lease.duration in body should match '${LEASE_DURATION_PATTERN}' (a lease duration is whole positive amounts of d, h, m or s, largest unit first (90m, 2h, 1h30m, 3d, 1d12h, 45s))` }]);
  });

  it('refuses an unknown onExpiry and a lease without a duration', () => {
    expect(parseManifestsCarefully(doc('    duration: 2h\n    onExpiry: Explode'), 'l1.yaml').errors[0]!.message)
      .toBe('spec.lease.onExpiry: Unsupported value: "Explode": supported values: "Stop", "Delete", "Save"');
    expect(parseManifestsCarefully(doc('    onExpiry: Stop'), 'l1.yaml').errors[0]!.message).toBe('spec.lease.duration: Required value');
  });

  it('takes a good lease and defaults onExpiry to Stop', () => {
    const { resources, errors } = parseManifestsCarefully(doc('    duration: 3d'), 'l1.yaml');
    expect(errors).toEqual([]);
    expect((resources[0]!.resource.spec as { lease: unknown }).lease).toEqual({ duration: '3d', onExpiry: 'Stop' });
  });
});
