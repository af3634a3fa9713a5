// crds/ and manifests/ checked without a cluster: structural schemas, least-privilege RBAC that
// still covers every call the controller makes, container args the controller accepts.
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MAX_MEMORY_BYTES, MEMORY_PATTERN, MIN_MEMORY_BYTES } from '../../src/api/quantity.js';
import { validateResource } from '../../src/api/schema.js';
import { structuralErrors, unknownSchemaFields } from '../kube/crd-structural.js';
import { parseRunArgs } from '../../src/cli/run-command.js';
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

/** Fields without a description (kubectl explain would show <empty>), below spec and status. */
function undescribed(schema: any, path: string): string[] {
  const out: string[] = [];
  for (const [name, sub] of Object.entries<any>(schema.properties ?? {})) {
    if (!sub.description) out.push(`${path}.${name}`);
    out.push(...undescribed(sub, `${path}.${name}`));
  }
  if (schema.items) out.push(...undescribed(schema.items, `${path}[]`));
  return out;
}

describe('crds/', () => {
  const crds = docsIn('crds');

  it.each(crds.map((c) => [c.metadata.name, c]))('%s is a structural schema with a status subresource and descriptions', (_name, crd) => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    for (const version of crd.spec.versions) {
      const root = version.schema.openAPIV3Schema;
      // The API-server double's copy of the server's structural rules; the real server was run
      // on these files too (closing note of issue 8).
      expect(structuralErrors(crd.spec)).toEqual([]);
      // An unquoted ", " in a flow-mapping description once made a field the server refused.
      expect(unknownSchemaFields(crd.spec)).toEqual([]);
      expect(root.properties.spec.type).toBe('object');
      expect(undescribed({ properties: { spec: root.properties.spec, status: root.properties.status ?? { description: 'none' } } }, '')).toEqual([]);
      if (root.properties.status) expect(version.subresources?.status).toEqual({});
    }
    expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
    expect(crd.spec.names.categories).toContain('wimaxvm');
  });

  it('spec.memory carries the controller\'s memory rule (src/api/quantity.ts), in the only int-or-string form the server takes', () => {
    const memory = crds.find((c) => c.metadata.name === 'virtualmachines.wimaxvm.io').spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.memory;
    expect(memory).toMatchObject({
      'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: MEMORY_PATTERN, minimum: MIN_MEMORY_BYTES, maximum: MAX_MEMORY_BYTES,
    });
  });

  it('printer columns: kubectl get wvm shows STATUS VLAN MAC IP NODE EXPIRES AGE, wxc MAC VM VLAN STATUS AGE', () => {
    const columns = (name: string) => crds.find((c) => c.metadata.name === name).spec.versions[0].additionalPrinterColumns.map((c: any) => c.name.toUpperCase());
    expect(columns('virtualmachines.wimaxvm.io')).toEqual(['STATUS', 'VLAN', 'MAC', 'IP', 'NODE', 'EXPIRES', 'POWER', 'AGE']);
    expect(columns('wimaxclients.wimaxvm.io')).toEqual(['MAC', 'VM', 'VLAN', 'STATUS', 'AGE']);
  });
});

describe('manifests/', () => {
  const docs = docsIn('manifests');
  const rules = docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role').flatMap((d) => d.rules);
  const allows = (group: string, resource: string, verb: string) => rules.some((r: any) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

  it('RBAC has no wildcards, and deletes nothing but VLAN claims (Leases it gives back)', () => {
    for (const r of rules) for (const list of [r.apiGroups, r.resources, r.verbs]) expect(list).not.toContain('*');
    for (const r of rules.filter((x) => x.verbs.includes('delete'))) expect(r).toMatchObject({ apiGroups: ['coordination.k8s.io'], resources: ['leases'] });
  });

  it.each([
    // The calls themselves are recorded against the API-server double in test/kube/rbac-coverage.test.ts.
    ['wimaxvm.io', 'virtualmachines', ['get', 'list', 'watch', 'patch', 'create']],
    ['wimaxvm.io', 'wimaxclients', ['get', 'list', 'watch', 'patch', 'create']],
    ['wimaxvm.io', 'shapingpolicies', ['list', 'watch', 'create', 'patch']],
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

  // Issue 8 (3): the Deployment mounted secrets nothing created and README did not mention,
  // ran the DaemonSet as uid 65532 against root-owned sockets, and exposed no Service.
  it('every secret a workload mounts is optional, or README says how to create it', () => {
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
    for (const w of docs.filter((d) => d.kind === 'Deployment' || d.kind === 'DaemonSet')) {
      for (const v of w.spec.template.spec.volumes ?? []) {
        if (!v.secret || v.secret.optional) continue;
        expect(readme, `README creates secret ${v.secret.secretName}`).toContain(`kubectl -n wimaxvm-system create secret generic ${v.secret.secretName}`);
      }
    }
  });

  it('the Deployment: lease in its own namespace, libvirt TLS certificates where the URI says, a Service for port 5012', () => {
    const deployment = docs.find((d) => d.kind === 'Deployment');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(container.env).toContainEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    const pkipath = /pkipath=([^&]+)/.exec(container.args.find((a: string) => a.startsWith('--connect=qemu+tls')))?.[1];
    expect(container.volumeMounts.map((m: any) => m.mountPath)).toContain(pkipath);
    const service = docs.find((d) => d.kind === 'Service');
    expect(service.spec.ports[0]).toMatchObject({ port: 5012, targetPort: 'http' });
    expect(container.ports).toContainEqual({ name: 'http', containerPort: 5012 });
    for (const [k, v] of Object.entries(service.spec.selector)) expect(deployment.spec.template.metadata.labels[k]).toBe(v);
    expect(pod.securityContext.fsGroup).toBe(65532);
  });

  it('the DaemonSet runs as root to reach libvirtd\'s and OVS\'s root-owned sockets and the state hostPath', () => {
    const pod = docs.find((d) => d.kind === 'DaemonSet').spec.template.spec;
    expect(pod.containers[0].securityContext).toMatchObject({ runAsUser: 0, privileged: false });
    const hostPaths = pod.volumes.filter((v: any) => v.hostPath).map((v: any) => v.hostPath.path);
    expect(hostPaths).toEqual(expect.arrayContaining(['/var/run/libvirt', '/var/run/openvswitch', '/var/lib/wimaxvm']));
  });

  it('the samples are valid resources', () => {
    for (const sample of docs.filter((d) => d.apiVersion === 'wimaxvm.io/v1alpha1')) expect(validateResource(sample)).toMatchObject({ ok: true });
  });
});
