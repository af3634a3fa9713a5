// HTTP: the API server's URL layout (/api/v1/..., /apis/GROUP/VERSION/...), the discovery
// documents @kubernetes/client-node reads (KubernetesObjectApi asks /api/v1 or
// /apis/GROUP/VERSION which plural and scope a kind has), and the verbs on collections,
// objects and status subresources.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeleteOptions, Operations, Selection } from './operations.js';
import { apiVersionOf, type ResourceType, type ResourceTypes } from './resources.js';
import { ApiError, badRequest, methodNotAllowed, noSuchResource, serverError, unsupportedMediaType } from './status.js';
import type { WatchHub } from './watch.js';

type Target =
  | { discovery: object }
  | { type: ResourceType; namespace?: string; name?: string; subresource?: 'status' };

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown): void {
  // Too late for a Status once a watch stream has started: cut it, as a failing server would.
  if (res.headersSent) return void res.destroy();
  const status = error instanceof ApiError ? error.status : serverError(String((error as Error)?.stack ?? error)).status;
  sendJson(res, status.code, status);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0]!.trim();

export class Router {
  constructor(
    private readonly types: ResourceTypes,
    private readonly operations: Operations,
    private readonly watches: WatchHub,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = url.searchParams;
    const target = this.resolve(url.pathname, req.headers.host ?? '');
    if ('discovery' in target) {
      if (req.method !== 'GET') throw methodNotAllowed();
      return sendJson(res, 200, target.discovery);
    }
    if (query.get('dryRun')) throw badRequest('the fake API server does not implement dryRun');
    const { type, namespace, name, subresource } = target;
    const options = { strict: query.get('fieldValidation') === 'Strict' };
    const selection: Selection = {
      ...(namespace !== undefined ? { namespace } : {}),
      ...(query.get('labelSelector') ? { labelSelector: query.get('labelSelector')! } : {}),
      ...(query.get('fieldSelector') ? { fieldSelector: query.get('fieldSelector')! } : {}),
    };
    // A namespaced resource outside a namespace is only a cluster-wide list or watch.
    const writable = !type.namespaced || namespace !== undefined;

    if (name === undefined) {
      switch (req.method) {
        case 'GET':
          if (query.get('watch') === 'true' || query.get('watch') === '1') return this.watch(res, type, selection, query);
          return sendJson(res, 200, this.operations.list(type, selection));
        case 'POST':
          if (!writable) throw methodNotAllowed();
          return sendJson(res, 201, this.operations.create(type, namespace, await this.jsonBody(req), options));
        case 'DELETE':
          if (!writable) throw methodNotAllowed();
          return sendJson(res, 200, this.operations.deleteCollection(type, selection, await this.deleteOptions(req)));
        default:
          throw methodNotAllowed();
      }
    }
    switch (req.method) {
      case 'GET':
        return sendJson(res, 200, this.operations.get(type, namespace, name));
      case 'PUT': {
        const { object, created } = this.operations.update(type, namespace, name, await this.jsonBody(req), options, subresource);
        return sendJson(res, created ? 201 : 200, object);
      }
      case 'PATCH':
        return sendJson(res, 200, this.operations.patch(type, namespace, name, mediaType(req), await readBody(req), options, subresource));
      case 'DELETE':
        if (subresource) throw methodNotAllowed();
        return sendJson(res, 200, this.operations.delete(type, namespace, name, await this.deleteOptions(req)));
      default:
        throw methodNotAllowed();
    }
  }

  private watch(res: ServerResponse, type: ResourceType, selection: Selection, query: URLSearchParams): void {
    const resourceVersion = query.get('resourceVersion') ?? '';
    if (resourceVersion && !/^\d+$/.test(resourceVersion)) throw badRequest(`Invalid value: ${JSON.stringify(resourceVersion)}: must be an integer resourceVersion`);
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? 0);
    // allowWatchBookmarks is a request the server may ignore; this one sends no bookmarks.
    this.watches.serve(res, {
      storage: type.storage,
      matches: this.operations.selector(type, selection),
      view: (o) => type.fromStorage(o),
      resourceVersion,
      ...(timeoutSeconds > 0 ? { timeoutSeconds } : {}),
    });
  }

  private async jsonBody(req: IncomingMessage): Promise<unknown> {
    const type = mediaType(req);
    if (type && type !== 'application/json') throw unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
    return parseJson(await readBody(req));
  }

  /** DeleteOptions may come as a body; only preconditions matter here (there is no garbage collector). */
  private async deleteOptions(req: IncomingMessage): Promise<DeleteOptions> {
    const text = await readBody(req);
    if (!text.trim()) return {};
    const body = parseJson(text) as DeleteOptions;
    return body.preconditions ? { preconditions: body.preconditions } : {};
  }

  private resolve(path: string, host: string): Target {
    const segments = path.split('/').filter(Boolean);
    const [root, ...rest] = segments;
    let group: string;
    let version: string | undefined;
    if (root === 'api') {
      if (rest.length === 0) return { discovery: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] } };
      group = '';
      version = rest.shift();
    } else if (root === 'apis') {
      if (rest.length === 0) return { discovery: this.groupList() };
      group = rest.shift()!;
      version = rest.shift();
    } else throw noSuchResource();
    if (version === undefined) throw noSuchResource();
    if (rest.length === 0) return { discovery: this.resourceList(group, version) };

    let namespace: string | undefined;
    // /api/v1/namespaces/NAME/status is the namespace's own subresource, not a resource in it.
    const namespaceSubresource = group === '' && rest.length === 3 && rest[0] === 'namespaces' && rest[2] === 'status';
    if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
      namespace = rest[1];
      rest.splice(0, 2);
    }
    const [plural, name, subresource, ...extra] = rest;
    const type = this.types.find(group, version, plural!);
    if (!type || extra.length || (namespace !== undefined && !type.namespaced)) throw noSuchResource();
    if (subresource !== undefined && (subresource !== 'status' || !type.statusSubresource)) throw noSuchResource();
    return {
      type,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(subresource ? { subresource: 'status' as const } : {}),
    };
  }

  private groupList(): object {
    const versions = new Map<string, string[]>();
    for (const t of this.types.all()) {
      if (!t.group) continue;
      const list = versions.get(t.group) ?? [];
      if (!list.includes(t.version)) list.push(t.version);
      versions.set(t.group, list);
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...versions].map(([name, vs]) => ({
        name,
        versions: vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${vs[0]}`, version: vs[0] },
      })),
    };
  }

  private resourceList(group: string, version: string): object {
    const types = this.types.all().filter((t) => t.group === group && t.version === version);
    if (!types.length) throw noSuchResource();
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: apiVersionOf({ group, version }),
      resources: types.flatMap((t) => [
        { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: VERBS, ...(t.shortNames ? { shortNames: t.shortNames } : {}) },
        ...(t.statusSubresource ? [{ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]),
    };
  }
}
