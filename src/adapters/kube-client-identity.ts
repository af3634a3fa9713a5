// Every request this controller makes names it: the User-Agent "wimaxvm/VERSION" (the audit log,
// and the field manager the server derives from it) and, on writes, fieldManager=wimaxvm (what
// managedFields show instead of "node-fetch"). One place: the KubeConfig every API client, watch
// and informer gets its options from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type https from 'node:https';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { PACKAGE_ROOT } from '../package-root.js';

export const FIELD_MANAGER = 'wimaxvm';
export const USER_AGENT = `${FIELD_MANAGER}/${(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version}`;

const WRITES = new Set(['POST', 'PUT', 'PATCH']);
const IDENTIFIED = Symbol('wimaxvm identified');

/** Makes `kc` name wimaxvm on every request; returns it. Idempotent. */
export function identifyClient(kc: KubeConfig): KubeConfig {
  const marked = kc as KubeConfig & { [IDENTIFIED]?: true };
  if (marked[IDENTIFIED]) return kc;
  marked[IDENTIFIED] = true;
  // Generated API clients (CustomObjectsApi, CoreV1Api, ...) authenticate through this.
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context: RequestContext) => {
    await authenticate(context);
    context.setHeaderParam('User-Agent', USER_AGENT);
    if (WRITES.has(String(context.getHttpMethod()))) context.setQueryParam('fieldManager', FIELD_MANAGER);
  };
  // Watches (and so informers) build their fetch options through this.
  const httpsOptions = kc.applyToHTTPSOptions.bind(kc);
  kc.applyToHTTPSOptions = async (opts: https.RequestOptions | Parameters<KubeConfig['applyToHTTPSOptions']>[0]) => {
    await httpsOptions(opts);
    (opts as https.RequestOptions).headers = { ...(opts as https.RequestOptions).headers, 'User-Agent': USER_AGENT };
  };
  return kc;
}
