// Who a controller is, as written into every domain it creates: a domain of another identity
// is never changed or removed. File mode: this host and the watched directory; Kubernetes mode:
// the cluster and the controller's name. Two controllers on one libvirt thus leave each other's
// domains alone, and a copy of the project run elsewhere cannot claim them.
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

export function fileModeIdentity(dir: string, host = hostname()): string {
  let path = resolve(dir);
  try {
    path = realpathSync(path);
  } catch {
    // A missing directory fails later, with its own error.
  }
  return `file://${host}${path}`;
}

/** `cluster`: the uid of its kube-system namespace (or, where that cannot be read, its API server's address). */
export function kubeModeIdentity(cluster: string, controllerName: string): string {
  return `kube://${cluster}/${controllerName}`;
}
