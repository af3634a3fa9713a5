// Issue 8 (2, 10): the shipped RBAC must allow every call the controller and its legacy API
// make, and nothing is guessed: the controller runs against the API-server double (leader
// election, a VM and a station through the legacy API, shaping on and off, deletion through the
// finalizer), the double records each request with its User-Agent, and every request of
// wimaxvm's user agent is checked against the rules of manifests/base/rbac.yaml and vlan-claims-rbac.yaml.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELD_MANAGER, USER_AGENT } from '../../src/adapters/kube-client-identity.js';
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { eventually } from '../helpers/harness.js';
import { FakeApiServer, type RequestRecord } from './api-server.js';
import { attributesOf, authorizer, rbacDocs, SA, type Rule } from './rbac-rules.js';

const VMS = { group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default' };

describe('RBAC covers what the controller calls', () => {
  let server: FakeApiServer;
  let running: RunningController;
  let calls: RequestRecord[];

  beforeAll(async () => {
    server = await FakeApiServer.start({ installCrds: true });
    await server.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'wimaxvm-system' } } });
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'wimaxvm-kc-')), 'config');
    writeFileSync(kubeconfig, server.kubeConfig().exportConfig());
    const saved = process.env.POD_NAMESPACE;
    delete process.env.POD_NAMESPACE;
    const config = buildConfig({
      source: 'kube', kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-rbac-')),
      listen: '127.0.0.1:0', poll: '100ms', resync: '10m', 'shutdown-timeout': '1s', 'leader-elect': true,
    });
    if (saved !== undefined) process.env.POD_NAMESPACE = saved;
    // Renewed every 200 ms; a lease of 1.5 s was lost under a loaded machine (no renew answered in 1 s), and the legacy start then waited its 60 s.
    config.kube!.leaderElection = { ...config.kube!.leaderElection!, leaseDurationMs: 8000, renewDeadlineMs: 6000, retryPeriodMs: 200 };
    running = await startController(config, silentLogger);
    const api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    const legacy = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${running.httpAddress!.port}/wimaxvm/${path}`);
      return `${res.status} ${await res.text()}`;
    };
    const name = `rbac-${Math.random().toString(36).slice(2, 6)}`;
    // An IP pool and a VM naming it, made first so that their work overlaps the legacy calls' waits.
    await api.createNamespacedCustomObject({ ...VMS, plural: 'ippools', body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'IPPool', metadata: { name: 'rbac-pool' }, spec: { cidr: '10.91.0.0/29' } } });
    await api.createNamespacedCustomObject({ ...VMS, body: { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: `${name}-ip` }, spec: { memory: '64Mi', runStrategy: 'Halted', network: { ipPool: 'rbac-pool' } } } });
    await eventually(async () => (await legacy(`create?vmname=${name}&mac=52:54:00:00:aa:01&ip=10.0.0.9`)).startsWith('200'), 'legacy create');
    expect(await legacy(`start?vmname=${name}`)).toMatch(/^200 /);
    expect(await legacy(`addclient?clientmac=00:11:22:33:44:01&vmname=${name}`)).toMatch(/^20[02] /);
    expect(await legacy('stopshaping')).toMatch(/^200 /);
    expect(await legacy('startshaping')).toMatch(/^200 /);
    expect(await legacy(`stop?vmname=${name}`)).toMatch(/^200 /);
    await api.deleteNamespacedCustomObject({ ...VMS, name });
    await eventually(async () => api.getNamespacedCustomObject({ ...VMS, name }).then(() => false, (e) => e.code === 404), `${name} deleted through the finalizer`);
    // The pool's VM goes too: its address (a Lease) given back, the pool's status written again.
    await eventually(async () => (await api.getNamespacedCustomObject({ ...VMS, plural: 'ippools', name: 'rbac-pool' })).status?.allocated === 1, 'the pool counts the VM');
    await api.deleteNamespacedCustomObject({ ...VMS, name: `${name}-ip` });
    await eventually(async () => (await api.getNamespacedCustomObject({ ...VMS, plural: 'ippools', name: 'rbac-pool' })).status?.allocated === 0, 'the address given back');
    await running.stop();
    calls = server.requests.filter((r) => r.userAgent === USER_AGENT);
  });
  afterAll(async () => server.stop());

  it('every request of the controller names it (User-Agent wimaxvm/VERSION), watches included', () => {
    expect(USER_AGENT).toMatch(/^wimaxvm\/\d+\.\d+\.\d+/);
    expect(calls.some((r) => r.query.watch === 'true')).toBe(true);
    // The test's own client is node-fetch; nothing else talked to the double.
    expect(server.requests.every((r) => r.userAgent === USER_AGENT || r.userAgent.startsWith('node-fetch/'))).toBe(true);
  });

  it('every write carries fieldManager=wimaxvm', () => {
    const writes = calls.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
    expect(writes.length).toBeGreaterThan(5);
    for (const w of writes) expect(w.query.fieldManager, `${w.method} ${w.path}`).toBe(FIELD_MANAGER);
  });

  it('the ServiceAccount may make every call it made', () => {
    const allowed = authorizer(rbacDocs, SA);
    const seen = new Set<string>();
    const refused: string[] = [];
    for (const r of calls) {
      const a = attributesOf(r);
      if (!a) continue;
      const text = `${a.verb} ${a.group || 'core'}/${a.resource}${a.namespace ? ` in ${a.namespace}` : ''}`;
      seen.add(text);
      if (!allowed(a)) refused.push(text);
    }
    expect([...new Set(refused)]).toEqual([]);
    // The scenario reached what it is meant to cover.
    for (const needed of [
      'create wimaxvm.io/virtualmachines in default', 'patch wimaxvm.io/virtualmachines in default', 'create wimaxvm.io/wimaxclients in default',
      'create wimaxvm.io/shapingpolicies in default', 'patch wimaxvm.io/shapingpolicies in default', 'patch wimaxvm.io/virtualmachines/status in default',
      'create core/events in default', 'update coordination.k8s.io/leases in wimaxvm-system', 'watch wimaxvm.io/virtualmachines',
      'watch wimaxvm.io/ippools', 'patch wimaxvm.io/ippools/status in default', 'create coordination.k8s.io/leases in wimaxvm-system', 'delete coordination.k8s.io/leases in wimaxvm-system',
    ]) expect(seen, needed).toContain(needed);
  });

  it('the rules before issue 8 would have refused the legacy API\'s writes (the check can fail)', () => {
    const old = rbacDocs.map((d) => (d.kind === 'ClusterRole'
      ? { ...d, rules: d.rules.map((r: Rule) => ({ ...r, verbs: r.verbs.filter((v) => v !== 'create' || r.resources.includes('events')) })) }
      : d));
    const allowed = authorizer(old, SA);
    expect(allowed({ verb: 'create', group: 'wimaxvm.io', resource: 'virtualmachines', namespace: 'default' })).toBe(false);
  });
});
