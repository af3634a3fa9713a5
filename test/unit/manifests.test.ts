// crds/ and manifests/ checked without a cluster: structural schemas, least-privilege RBAC that
// still covers every call the controller makes, container args the controller accepts.
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateResource } from '../../src/api/schema.js';
import { parseRunArgs } from '../../src/cli/main.js';
import { buildConfig } from '../../src/config.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';

function docsIn(dir: string): any[] {
  const out: any[] = [];
  for (const entry of readdirSync(join(PACKAGE_ROOT, dir), { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...docsIn(join(dir, entry.name)));
    else if (/\.ya?ml$/.test(entry.name)) {
      for (const d of parseAllDocuments(readFileSync(join(PACKAGE_ROOT, dir, entry.name), 'utf8'))) {
        expect(d.errors, `${dir}/${entry.name}`).toEqual([]);
        if (d.contents) out.push(d.toJS());
      }
    }
  }
  return out;
}

/** The structural-schema rules of apiextensions.k8s.io/v1, as far as our schemas use them. */
function structuralProblems(schema: any, path: string): string[] {
  const problems: string[] = [];
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (!schema.type && !intOrString && !schema['x-kubernetes-preserve-unknown-fields']) problems.push(`${path}: no type`);
  if (intOrString && schema.anyOf?.some((b: any) => b.type && !['integer', 'string'].includes(b.type))) problems.push(`${path}: int-or-string anyOf with other types`);
  if (schema.type === 'object' && !schema.properties && !schema.additionalProperties && !schema['x-kubernetes-preserve-unknown-fields'] && path !== '.metadata') {
    problems.push(`${path}: object without properties (would be pruned empty)`);
  }
  for (const [name, sub] of Object.entries<any>(schema.properties ?? {})) problems.push(...structuralProblems(sub, `${path}.${name}`));
  if (schema.items) problems.push(...structuralProblems(schema.items, `${path}[]`));
  if (schema.anyOf) for (const b of schema.anyOf) if (b.properties || b.items || b.description) problems.push(`${path}: anyOf branches may only restrict values`);
  return problems;
}

describe('crds/', () => {
  const crds = docsIn('crds');

  it.each(crds.map((c) => [c.metadata.name, c]))('%s is a structural schema with a status subresource and descriptions', (_name, crd) => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    for (const version of crd.spec.versions) {
      const root = version.schema.openAPIV3Schema;
      expect(structuralProblems(root, '')).toEqual([]);
      expect(root.properties.spec.type).toBe('object');
      for (const [field, sub] of Object.entries<any>(root.properties.spec.properties)) expect(sub.description, `spec.${field}`).toBeTruthy();
      if (root.properties.status) expect(version.subresources?.status).toEqual({});
    }
    expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
    expect(crd.spec.names.categories).toContain('wimaxvm');
  });

  it('printer columns: kubectl get wvm shows STATUS VLAN MAC IP NODE AGE, wxc MAC VM VLAN STATUS AGE', () => {
    const columns = (name: string) => crds.find((c) => c.metadata.name === name).spec.versions[0].additionalPrinterColumns.map((c: any) => c.name.toUpperCase());
    expect(columns('virtualmachines.wimaxvm.io')).toEqual(['STATUS', 'VLAN', 'MAC', 'IP', 'NODE', 'AGE']);
    expect(columns('wimaxclients.wimaxvm.io')).toEqual(['MAC', 'VM', 'VLAN', 'STATUS', 'AGE']);
  });
});

describe('manifests/', () => {
  const docs = docsIn('manifests');
  const rules = docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role').flatMap((d) => d.rules);
  const allows = (group: string, resource: string, verb: string) => rules.some((r: any) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

  it('RBAC has no wildcards', () => {
    for (const r of rules) for (const list of [r.apiGroups, r.resources, r.verbs]) expect(list).not.toContain('*');
  });

  it.each([
    ['wimaxvm.io', 'virtualmachines', ['get', 'list', 'watch', 'patch']],
    ['wimaxvm.io', 'wimaxclients', ['get', 'list', 'watch', 'patch']],
    ['wimaxvm.io', 'shapingpolicies', ['list', 'watch']],
    ['wimaxvm.io', 'virtualmachines/status', ['patch']],
    ['wimaxvm.io', 'wimaxclients/status', ['patch']],
    ['wimaxvm.io', 'virtualmachines/finalizers', ['update']],
    ['', 'events', ['create', 'patch']],
    ['coordination.k8s.io', 'leases', ['get', 'create', 'update']],
  ])('RBAC allows what the controller calls: %s %s', (group, resource, verbs) => {
    for (const verb of verbs as string[]) expect(allows(group as string, resource as string, verb), `${verb} ${resource}`).toBe(true);
  });

  it('VLAN claims: a Role in the claim namespace grants the Lease verbs the claims use, bound to the controller', () => {
    const namespace = buildConfig({ source: 'kube' }).kube!.vlanClaimNamespace;
    const role = docs.find((d) => d.kind === 'Role' && d.metadata.name === 'wimaxvm-vlan-claims');
    expect(role.metadata.namespace).toBe(namespace);
    expect(role.rules).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] }]);
    const binding = docs.find((d) => d.kind === 'RoleBinding' && d.roleRef.name === 'wimaxvm-vlan-claims');
    expect(binding.metadata.namespace).toBe(namespace);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'wimaxvm-controller', namespace: 'wimaxvm-system' }]);
    const kustomization = docs.find((d) => d.kind === 'Kustomization' && d.resources.includes('rbac.yaml'));
    expect(kustomization.resources).toContain('vlan-claims-rbac.yaml');
  });

  it.each(['Deployment', 'DaemonSet'])('the %s container args are flags the controller accepts', (kind) => {
    const workload = docs.find((d) => d.kind === kind);
    const args: string[] = workload.spec.template.spec.containers[0].args;
    expect(args[0]).toBe('run');
    const token = join(mkdtempSync(join(tmpdir(), 'wimaxvm-m-')), 'token');
    writeFileSync(token, 'x');
    const { values, positionals } = parseRunArgs(args.slice(1).map((a) => a.replace('/etc/wimaxvm/api-token/token', token)));
    expect(positionals).toEqual([]);
    const config = buildConfig(values);
    expect(config.source).toBe('kube');
    if (kind === 'Deployment') expect(config.kube?.leaderElection?.namespace).toBe('wimaxvm-system');
    if (kind === 'DaemonSet') expect(workload.spec.template.spec.containers[0].env[0]).toMatchObject({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  });

  it('the samples are valid resources', () => {
    for (const sample of docs.filter((d) => d.apiVersion === 'wimaxvm.io/v1alpha1')) expect(validateResource(sample)).toMatchObject({ ok: true });
  });
});
