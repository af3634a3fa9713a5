// `wimaxvm create --source kube` and `image list|rm --source kube` against the API-server double
// (which validates against the CRDs of crds/): the object is created through the API, its lease
// kept; a second create is the server's Conflict; the cluster's VMs are an image's users.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/run-cli.js';
import type { FakeApiServer } from './api-server.js';
import { startCluster } from './cluster-fixture.js';

describe('create and image through the API server', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  const images = join(mkdtempSync(join(tmpdir(), 'wimaxvm-kube-images-')), 'images');

  beforeAll(async () => {
    ({ server, kubeconfig } = await startCluster());
    execFileSync('mkdir', ['-p', images]);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(images, 'debian.qcow2'), '16M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(images, 'spare.qcow2'), '16M']);
  });
  afterAll(async () => {
    await server.stop();
  });

  const kube = ['--source', 'kube', '--kubeconfig'];

  it('creates the VM through the API, with its lease; a second create is a Conflict; a bad value the server\'s Invalid', async () => {
    const made = await cli('create', 'vm40', '--image', 'debian.qcow2', '--memory', '512Mi', '--vcpus', '1', '--hours', '2', '--vlan', '40', ...kube, kubeconfig);
    expect(made).toMatchObject({ code: 0, out: 'virtualmachine.wimaxvm.io/vm40 created\n' });
    const api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    const stored = await api.getNamespacedCustomObject({ group: 'wimaxvm.io', version: 'v1alpha1', namespace: 'default', plural: 'virtualmachines', name: 'vm40' }) as { spec: unknown };
    expect(stored.spec).toEqual({ runStrategy: 'Always', memory: '512Mi', vcpus: 1, disks: [{ image: 'debian.qcow2' }], network: { vlan: 40 }, lease: { duration: '2h', onExpiry: 'Stop' } }); // onExpiry: the CRD's default
    expect(server.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toContain('/apis/wimaxvm.io/v1alpha1/namespaces/default/virtualmachines');

    expect(await cli('create', 'vm40', '--memory', '1Gi', '--vcpus', '2', ...kube, kubeconfig)).toMatchObject({ code: 1, err: expect.stringMatching(/^error \(Conflict\): .*vm40.*already exists/) });
    expect(await cli('create', 'vm41', '--memory', '1Gi', '--vcpus', '0', ...kube, kubeconfig)).toMatchObject({ code: 1, err: expect.stringMatching(/^error \(Invalid\): .*spec\.vcpus/) });
    expect(await cli('create', 'vm41', '--memory', '1Gi', '--vcpus', '1', '-n', 'lab', '--image', 'debian.qcow2', ...kube, kubeconfig)).toMatchObject({ code: 1, err: expect.stringMatching(/NotFound/) }); // no namespace lab
  });

  it('image list and rm read the cluster\'s VMs', async () => {
    const list = await cli('image', 'list', '--image-dir', images, ...kube, kubeconfig, '-o', 'json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out).items.map((i: { name: string; usedBy: { vms: string[] } }) => [i.name, i.usedBy.vms])).toEqual([['debian.qcow2', ['vm40']], ['spare.qcow2', []]]);
    expect(await cli('image', 'rm', 'debian.qcow2', '--image-dir', images, ...kube, kubeconfig)).toMatchObject({ code: 1, err: expect.stringContaining('in use by virtualmachine/vm40') });
    expect(await cli('image', 'rm', 'spare.qcow2', '--image-dir', images, ...kube, kubeconfig)).toMatchObject({ code: 0, out: 'image/spare.qcow2 removed\n' });
  });
});
