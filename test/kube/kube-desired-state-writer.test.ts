// Issue 8 (2): in Kubernetes mode the legacy API answered "500 internal error" when the API
// server refused a write (403 under the shipped RBAC). Every refusal now carries the server's
// message and a matching HTTP status, through the real client against the API-server double.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeDesiredStateWriter } from '../../src/adapters/kube-desired-state-writer.js';
import { LegacyApi } from '../../src/http/legacy-api.js';
import { DesiredStateError } from '../../src/ports/desired-state-writer.js';
import { FakeHypervisor } from '../fakes/fake-hypervisor.js';
import { FakeApiServer } from './api-server.js';

const VM_PATH = /^\/apis\/wimaxvm\.io\/v1alpha1\/namespaces\/default\/virtualmachines$/;
const INJECTED = (code: number) => `injected by the fake API server's failNext (HTTP ${code})`;

describe('KubeDesiredStateWriter and the legacy API on API-server errors', () => {
  let server: FakeApiServer;
  let writer: KubeDesiredStateWriter;
  let legacy: LegacyApi;

  beforeAll(async () => {
    server = await FakeApiServer.start({ installCrds: true });
    writer = new KubeDesiredStateWriter(server.kubeConfig());
    legacy = new LegacyApi({
      writer, reader: { get: () => undefined, list: () => [] }, hypervisor: new FakeHypervisor(), namespace: 'default', waitMs: 0,
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each([
    [403, 'Refused'], [409, 'Conflict'], [422, 'Invalid'], [429, 'Refused'], [500, 'Refused'], [503, 'Refused'],
  ] as const)('a %d from the server is a %s error with its message and status', async (code, kind) => {
    server.failNext('POST', VM_PATH, code);
    const error = await writer.create({ apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: `w${code}` }, spec: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(DesiredStateError);
    expect(error).toMatchObject({ code: kind, status: code, message: INJECTED(code) });
  });

  it.each([403, 409, 422, 429, 500])('/wimaxvm/create answers %d with the server\'s message, never a bare 500', async (code) => {
    server.failNext('POST', VM_PATH, code);
    const answer = await legacy.handle('create', new URLSearchParams({ vmname: `l${code}`, mac: '52:54:00:00:00:01', ip: '10.0.0.1' }));
    expect(answer).toMatchObject({ status: code, body: `${INJECTED(code)}\n` });
  });

  it('a server that does not answer is a 503 that says so', async () => {
    const gone = await FakeApiServer.start();
    const unreachable = new KubeDesiredStateWriter(gone.kubeConfig());
    await gone.stop();
    const api = new LegacyApi({ writer: unreachable, reader: { get: () => undefined, list: () => [] }, hypervisor: new FakeHypervisor(), namespace: 'default', waitMs: 0 });
    const answer = await api.handle('startshaping', new URLSearchParams());
    expect(answer.status).toBe(503);
    expect(answer.body).toMatch(/the API server did not answer/);
  });
});
