// The shipped RBAC (manifests/base) as the API server's authorizer would apply it to the requests
// the double recorded: used by the RBAC-coverage test and by scenarios that check their own calls.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import type { RequestRecord } from './api-server.js';

export interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }
export interface Attributes { verb: string; group: string; resource: string; namespace?: string }

/** The request as the authorizer sees it (k8s.io/apiserver's RequestInfo), or undefined for discovery. */
export function attributesOf(r: RequestRecord): Attributes | undefined {
  const parts = r.path.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api') [group, rest] = ['', parts.slice(2)];
  else if (parts[0] === 'apis') [group, rest] = [parts[1]!, parts.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
  const [plural, name, sub] = rest;
  if (!plural) return undefined;
  const verb = { GET: name ? 'get' : r.query.watch === 'true' || r.query.watch === '1' ? 'watch' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: name ? 'delete' : 'deletecollection' }[r.method]!;
  return { verb, group, resource: sub ? `${plural}/${sub}` : plural, ...(namespace ? { namespace } : {}) };
}

/** ClusterRoles bound cluster-wide, Roles only in their namespace. */
export function authorizer(docs: any[], serviceAccount: { name: string; namespace: string }) {
  const bound = (b: any) => b.subjects.some((s: any) => s.kind === 'ServiceAccount' && s.name === serviceAccount.name && s.namespace === serviceAccount.namespace);
  const rulesOf = (kind: string, name: string, namespace?: string): Rule[] =>
    docs.find((d) => d.kind === kind && d.metadata.name === name && (namespace === undefined || d.metadata.namespace === namespace))?.rules ?? [];
  const grants: { rules: Rule[]; namespace?: string }[] = [
    ...docs.filter((d) => d.kind === 'ClusterRoleBinding' && bound(d)).map((b) => ({ rules: rulesOf('ClusterRole', b.roleRef.name) })),
    ...docs.filter((d) => d.kind === 'RoleBinding' && bound(d)).map((b) => ({
      rules: b.roleRef.kind === 'Role' ? rulesOf('Role', b.roleRef.name, b.metadata.namespace) : rulesOf('ClusterRole', b.roleRef.name),
      namespace: b.metadata.namespace,
    })),
  ];
  return (a: Attributes) => grants.some((g) => (g.namespace === undefined || g.namespace === a.namespace)
    && g.rules.some((r) => r.apiGroups.includes(a.group) && r.resources.includes(a.resource) && r.verbs.includes(a.verb)));
}

/** Every RBAC file the base kustomization applies. */
export const RBAC_FILES = ['manifests/base/rbac.yaml', 'manifests/base/vlan-claims-rbac.yaml'];
export const rbacDocs = RBAC_FILES.flatMap((file) => parseAllDocuments(readFileSync(join(PACKAGE_ROOT, file), 'utf8')).map((d) => d.toJS()));
export const SA = { name: 'wimaxvm-controller', namespace: 'wimaxvm-system' };

/** What of `calls` the shipped rules refuse, as "verb group/resource in namespace". */
export function refusedCalls(calls: readonly RequestRecord[]): string[] {
  const allowed = authorizer(rbacDocs, SA);
  const refused = new Set<string>();
  for (const r of calls) {
    const a = attributesOf(r);
    if (a && !allowed(a)) refused.add(`${a.verb} ${a.group || 'core'}/${a.resource}${a.namespace ? ` in ${a.namespace}` : ''}`);
  }
  return [...refused];
}
