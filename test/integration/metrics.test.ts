// /metrics scraped over HTTP while the real controller converges many VMs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Harness, manyVms } from '../helpers/harness.js';
import { parseSamples as samples } from '../helpers/metrics-text.js';

describe('/metrics during a run of many reconciles', () => {
  let h: Harness;
  let url: string;
  const N = 200;

  beforeAll(async () => {
    h = await Harness.create({ files: { 'a.yaml': manyVms(Array.from({ length: N }, (_, i) => ({ name: `m-${i}` }))) } });
    h.flags = { listen: '127.0.0.1:0' };
    const running = await h.start();
    url = `http://127.0.0.1:${running.httpAddress!.port}/metrics`;
  });
  afterAll(async () => h.dispose());

  it('counts are consistent during and after convergence', async () => {
    const scrape = async () => samples(await (await fetch(url)).text());
    const during = await scrape();
    await eventually(() => Array.from({ length: N }, (_, i) => h.status(`m-${i}`)?.printableStatus).every((s) => s === 'Running'), 'all Running');
    await h.settle();
    const after = await scrape();

    const reconciles = (m: Map<string, number>) => ['success', 'requeue', 'error'].reduce((sum, r) => sum + (m.get(`wimaxvm_reconcile_total{kind="VirtualMachine",result="${r}"}`) ?? 0), 0);
    expect(reconciles(after)).toBeGreaterThanOrEqual(N);
    expect(reconciles(after)).toBeGreaterThanOrEqual(reconciles(during));
    expect(after.get('wimaxvm_reconcile_duration_seconds_count{kind="VirtualMachine"}')).toBe(reconciles(after));
    expect(after.get('wimaxvm_vms{status="Running"}')).toBe(N);
    expect(after.get('wimaxvm_vlans_in_use')).toBe(N);
    expect(after.get('wimaxvm_vlans_free')).toBe(4093 - N);
    expect(after.get('wimaxvm_libvirt_call_duration_seconds_count{operation="define",result="ok"}')).toBe(N);
    expect(after.get('wimaxvm_libvirt_call_duration_seconds_count{operation="start",result="ok"}')).toBe(N);
    expect(after.get('wimaxvm_workqueue_depth{kind="VirtualMachine"}')).toBe(0);
    expect(after.get('wimaxvm_workqueue_in_flight{kind="VirtualMachine"}')).toBe(0);
    expect(after.get('wimaxvm_process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
