// An in-process stand-in for kube-apiserver, over real HTTP on 127.0.0.1, for driving the real
// @kubernetes/client-node in tests (no API server can be installed on these machines). It keeps
// the rules controllers lean on: resourceVersion and optimistic concurrency, generation,
// status subresources, finalizers, CRD schema validation and defaults, watches with a bounded
// history and 410 Expired, and the Status objects of the real server's errors. CRDs are held to
// the structural-schema rules and strict decoding of their schemas (crd-structural.ts), with the
// server's messages; custom resources are validated by the project's own validator, whose
// messages were compared with a real v1.28 server's (issue 8).
//
// Not modelled: authentication and authorization, admission webhooks, server-side apply and
// strategic merge patch (refused with a 415 saying so), dryRun (a 400), pagination (limit is
// ignored, which the API allows), version conversion between a CRD's versions, the status
// schema of CRDs, managedFields, garbage collection and the namespace controller (deleting a
// namespace does not delete what is in it). Of a CRD it does not check the defaults against the
// schema, CEL rules (x-kubernetes-validations) or RE2 syntax of patterns: tests of those need a
// real server. Events expire only when a test calls expireEvents().
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { CRDS_DIR } from '../../src/package-root.js';
import { Operations } from './operations.js';
import { CRD_STORAGE, ResourceTypes, type KubeObject } from './resources.js';
import { Router, sendError } from './routes.js';
import { injected } from './status.js';
import { Store } from './store.js';
import { WatchHub } from './watch.js';

export interface FakeApiServerOptions {
  /** Create the CRDs of crds/ at start, as `kubectl apply -f crds/` does. */
  installCrds?: boolean;
  /** Watch events kept for watches that resume from a resourceVersion (default 1000). */
  watchHistory?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The User-Agent header, as the audit log and the default field manager see it. */
  userAgent: string;
}

interface Injection { method: string; path: RegExp; status: number }

/** The namespaces every cluster starts with. */
const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class FakeApiServer {
  /** Every request received, oldest first, for assertions on what a client called. */
  readonly requests: RequestRecord[] = [];

  private readonly store = new Store();
  private readonly types = new ResourceTypes();
  private readonly operations = new Operations(this.store);
  private readonly watches: WatchHub;
  private readonly router: Router;
  private readonly injections: Injection[] = [];
  private readonly server: Server;
  private address = '';

  private constructor(options: FakeApiServerOptions) {
    // The watch hub subscribes first, so a CRD's DELETED event goes out before its objects'.
    this.watches = new WatchHub(this.store, options.watchHistory ?? 1000);
    this.store.onChange((change) => {
      if (change.storage === CRD_STORAGE) this.crdChanged(change.object, change.type === 'DELETED');
    });
    this.router = new Router(this.types, this.operations, this.watches);
    this.server = createServer((req, res) => void this.handle(req, res));
    for (const name of INITIAL_NAMESPACES) this.operations.create(this.types.namespaces, undefined, { metadata: { name } }, { strict: true });
    if (options.installCrds) this.installCrds();
  }

  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const server = new FakeApiServer(options);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(0, '127.0.0.1', resolve);
    });
    server.address = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    return server;
  }

  get url(): string {
    return this.address;
  }

  /** A client configuration for this server: no TLS, no credentials, namespace "default". */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: 'default' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** The revision of the last write (what a list made now would carry). */
  get resourceVersion(): string {
    return String(this.store.resourceVersion);
  }

  /** How many watch streams are open now. */
  get openWatches(): number {
    return this.watches.count;
  }

  /**
   * The next request with this method and a path matching `path` gets a Status error with this
   * code instead of being served (once per call; injections match in the order given).
   */
  failNext(method: string, path: RegExp, status: number): void {
    this.injections.push({ method: method.toUpperCase(), path, status });
  }

  /**
   * Deletes every Event, as the server's --event-ttl (default 1 h) does with events not updated
   * for that long; a later patch of one gets 404.
   */
  expireEvents(): number {
    const events = this.store.list(this.types.coreEvents.storage);
    for (const event of events) this.store.remove(this.types.coreEvents.storage, event);
    return events.length;
  }

  /** Cuts every open watch connection, as a network failure would. */
  dropWatches(): void {
    this.watches.drop();
  }

  /** Ends every open watch cleanly, as the real server does when a watch's timeout is up. */
  closeWatches(): void {
    this.watches.close();
  }

  /** Forgets the watch history: a watch resuming from any earlier resourceVersion gets 410. */
  compactHistory(): void {
    this.watches.compact();
  }

  async stop(): Promise<void> {
    this.watches.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), userAgent: req.headers['user-agent'] ?? '' });
    try {
      const i = this.injections.findIndex((inj) => inj.method === method && inj.path.test(url.pathname));
      if (i >= 0) throw injected(this.injections.splice(i, 1)[0]!.status);
      await this.router.handle(req, res);
    } catch (error) {
      sendError(res, error);
    }
  }

  private installCrds(): void {
    for (const file of readdirSync(CRDS_DIR).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const crd = parse(readFileSync(join(CRDS_DIR, file), 'utf8')) as KubeObject;
      this.operations.create(this.types.crds, undefined, crd, { strict: false });
    }
  }

  /** Serving follows the stored CRDs; deleting one deletes its objects (the CRD finalizer's work). */
  private crdChanged(crd: KubeObject, deleted: boolean): void {
    const name = crd.metadata.name!;
    const served = this.types.all().find((t) => t.custom && `${t.plural}.${t.group}` === name);
    this.types.setCrd(name, deleted ? undefined : crd);
    if (deleted && served) for (const obj of this.store.list(served.storage)) this.store.remove(served.storage, obj);
  }
}
