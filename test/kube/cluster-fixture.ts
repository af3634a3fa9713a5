// What every test that runs a controller against the API-server double needs: the double with
// wimaxvm's CRDs, the namespace VLANs are claimed in, and a kubeconfig file for --kubeconfig.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { FakeApiServer } from './api-server.js';

export async function startCluster(): Promise<{ server: FakeApiServer; kubeconfig: string }> {
  const server = await FakeApiServer.start({ installCrds: true });
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'wimaxvm-kc-')), 'config');
  writeFileSync(kubeconfig, server.kubeConfig().exportConfig());
  await server.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'wimaxvm-system' } } }); // where VLANs are claimed
  return { server, kubeconfig };
}
