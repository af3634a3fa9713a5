// The console at the size the issue names, 1000 slices and 10,000 stations (generated in
// memory): what a refresh and a snapshot cost the server, and how long the page takes to show
// it all. Figures are printed and kept in test-artifacts/ui/scale-figures.json; the assertions
// are about what is shown, never about time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceKey } from '../../src/api/meta.js';
import { VM_KIND } from '../../src/api/virtual-machine.js';
import { CLIENT_KIND } from '../../src/api/wimax-client.js';
import { silentLogger } from '../../src/core/logger.js';
import type { LegacyApi } from '../../src/http/legacy-api.js';
import { HttpServer } from '../../src/http/server.js';
import { UiConsole } from '../../src/http/ui/console.js';
import { RowTable, sliceRow, stationRow } from '../../src/http/ui/testbed-view.js';
import { ratesOf } from '../../src/http/ui/traffic-rates.js';
import { eventually } from '../helpers/harness.js';
import { ARTIFACTS, Browser, browserTestsEnabled } from './browser.js';
import { clientStatus, generateTestbed, HandFedTraffic, ready, vm, vmStatus } from './generated-testbed.js';

const SLICES = 1000;
const STATIONS = 10_000;

function timed<T>(fn: () => T): [T, number] {
  const started = performance.now();
  const value = fn();
  return [value, performance.now() - started];
}

/** The median of `runs` timings of fn, in ms. */
function median(runs: number, fn: () => void): number {
  const times = Array.from({ length: runs }, () => timed(fn)[1]).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

describe.runIf(browserTestsEnabled())(`the console with ${SLICES} slices and ${STATIONS} stations`, () => {
  const bed = generateTestbed(SLICES, STATIONS);
  const source = { declaredKeys: () => bed.store.keys(), declared: (k: string) => bed.store.get(k), statuses: (kind: string) => bed.statuses.list(kind) };
  const traffic = new HandFedTraffic();
  const figures: Record<string, number> = {};
  let browser: Browser;
  let server: HttpServer;
  let base: string;

  beforeAll(async () => {
    const ui = new UiConsole({ source, object: (k) => bed.statuses.get(k), events: () => [], traffic });
    server = new HttpServer({ host: '127.0.0.1', port: 0, logger: silentLogger, legacy: {} as LegacyApi, ready: () => ({ ready: true }), ui });
    base = `http://127.0.0.1:${(await server.start()).port}`;
    browser = await Browser.launch();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'scale-figures.json'), JSON.stringify(figures, null, 2) + '\n');
    console.log(`console figures at ${SLICES} slices / ${STATIONS} stations:`, figures);
  });

  it('costs the server little per second: a refresh compares references, a snapshot is built once per page', () => {
    const slices = new RowTable(VM_KIND, sliceRow);
    const stations = new RowTable(CLIENT_KIND, stationRow);
    const [, firstMs] = timed(() => { slices.refresh(source); stations.refresh(source); });
    figures.firstBuildMs = firstMs;
    figures.idleRefreshMs = median(9, () => {
      const a = slices.refresh(source);
      const b = stations.refresh(source);
      expect(a.upsert.length + a.remove.length + b.upsert.length + b.remove.length).toBe(0);
    });
    // The yardstick, same run: one bare read of both stores into maps by id, as a refresh must do at least.
    figures.bareStoreReadMs = median(9, () => {
      for (const kind of [VM_KIND, CLIENT_KIND]) {
        const byId = new Map<string, unknown>();
        for (const o of bed.statuses.list(kind)) byId.set(`${o.metadata.namespace}/${o.metadata.name}`, o.status);
        for (const key of bed.store.keys()) if (key.startsWith(kind)) byId.get(key.slice(kind.length + 1));
      }
    });
    const [json, snapshotMs] = timed(() => JSON.stringify({ slices: slices.all(), stations: stations.all() }));
    figures.snapshotJsonMs = snapshotMs;
    figures.snapshotKiB = Math.round(Buffer.byteLength(json) / 1024);
    // 1% of the statuses rewritten, half of them with a new state.
    for (let i = 0; i < 100; i++) {
      const key = resourceKey(CLIENT_KIND, `ns-${i % 4}`, `station-${String(i * 97).padStart(5, '0')}`);
      const object = bed.statuses.get(key)!;
      void bed.statuses.write(key, { ...object, status: i % 2 ? object.status : clientStatus('Pending', (object.status as { vmName: string }).vmName) });
    }
    const [diff, diffMs] = timed(() => stations.refresh(source));
    expect(diff.upsert).toHaveLength(50);
    figures.onePercentChangedRefreshMs = diffMs;
    figures.fullRatesKiB = Math.round(Buffer.byteLength(JSON.stringify(ratesOf(bed.traffic(0)))) / 1024);
  });

  it('shows every slice and station, draws rates, and filters', async () => {
    traffic.publish(bed.traffic(0));
    const { page, errors } = await browser.page();
    const started = Date.now();
    await page.goto(`${base}/ui`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    figures.pageLoadToShownMs = Date.now() - started;
    await page.waitForSelector('body[data-shown-at]', { timeout: 60_000 });
    figures.snapshotReceivedAfterNavigationMs = Number(await page.getAttribute('body', 'data-snapshot-at'));
    figures.shownAfterNavigationMs = Number(await page.getAttribute('body', 'data-shown-at'));
    // The same page, same moment: parsing the same JSON and making as many bare elements
    // (a box per slice, a list item with four texts per station), as the yardstick.
    figures.baselineBareDomMs = await page.evaluate(async (url) => {
      const reader = (await fetch(url)).body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value, { stream: true });
      await reader.cancel();
      const t0 = performance.now();
      const { slices, stations } = JSON.parse(text.slice(text.indexOf('data: ') + 6, text.indexOf('\n\n'))) as { slices: { id: string }[]; stations: { id: string; name: string; mac: string; state: string }[] };
      const root = document.createElement('div');
      const boxes = slices.map((s) => { const a = document.createElement('article'); a.textContent = s.id; root.append(a); return a; });
      stations.forEach((st, i) => {
        const li = document.createElement('li');
        for (const t of [st.name, st.mac, st.state, st.id]) { const span = document.createElement('span'); span.textContent = t; li.append(span); }
        boxes[i % boxes.length]!.append(li);
      });
      return performance.now() - t0;
    }, `${base}/ui/events`);
    figures.snapshotRenderMs = Number(await page.getAttribute('body', 'data-render-ms'));
    expect(await page.locator('article.slice').count()).toBe(SLICES);
    expect(await page.locator('li.station').count()).toBe(STATIONS);
    expect(await page.textContent('#counts')).toContain(`${SLICES} slices (${SLICES} running) · ${STATIONS} stations: ${STATIONS - 50} bound, 50 pending`);

    // A few more samples, each waited for: the sparklines on screen get lines, the boxes rates.
    for (let at = 1; at <= 6; at++) {
      const seen = Number(await page.getAttribute('body', 'data-rates-seen'));
      traffic.publish(bed.traffic(at));
      await page.waitForSelector(`body[data-rates-seen="${seen + 1}"]`);
    }
    const firstBox = page.locator('article.slice').first();
    await eventually(async () => (await firstBox.locator('.slice-head .rate').textContent())?.includes('↑'), 'rates on the first slice');
    await eventually(async () => ((await firstBox.locator('.slice-head polyline.down').getAttribute('points')) ?? '').length > 0, 'a sparkline drawn');

    // A state change of one slice reaches the page as a diff.
    const key = resourceKey(VM_KIND, 'ns-1', 'slice-0001');
    await bed.statuses.write(key, { ...vm('slice-0001', 'ns-1'), status: vmStatus('Failed', 3, [ready('False', 'CrashLoop', 'it crashed')]) });
    await page.waitForSelector('article.slice[data-id="ns-1/slice-0001"][data-state="Failed"]');
    await browser.screenshot(page, 'scale-1000-slices');

    const [filterMs] = await page.evaluate(async () => {
      const select = document.getElementById('filter-slice') as HTMLSelectElement;
      const t0 = performance.now();
      select.value = 'Failed';
      select.dispatchEvent(new Event('input'));
      return [performance.now() - t0];
    });
    figures.filterMs = filterMs;
    await eventually(async () => (await page.locator('article.slice:not([hidden])').count()) === 1, 'only the failed slice shown');
    await browser.screenshot(page, 'scale-filtered');
    expect(errors).toEqual([]);
  }, 120_000);
});
