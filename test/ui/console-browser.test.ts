// The web console in Debian's headless Chromium against a real controller: file mode on
// libvirt's test driver, slices and stations on a real Open vSwitch (VM ports played by veths,
// as in test/system/wimax-network.test.ts), the API listening off loopback with a token. One
// browser for the file. Screenshots: test-artifacts/ui/.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceKey } from '../../src/api/meta.js';
import { VM_KIND } from '../../src/api/virtual-machine.js';
import { vmPortName } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { ovsTestsEnabled, OvsTestbed } from '../helpers/ovs-testbed.js';
import { Browser, browserTestsEnabled } from './browser.js';
import { SseClient } from './sse-client.js';

const enabled = browserTestsEnabled() && ovsTestsEnabled();
const run = Math.random().toString(36).slice(2, 6);
const A = `ui-${run}-a`;
const B = `ui-${run}-b`;
const TOKEN = `console-token-${run}`;
/** A host address that is not loopback: the near end of a veth pair of this test's own. */
const NEAR = `wxu${run}h`;
const FAR = `wxu${run}p`;
const API_ADDRESS = `10.79.${Math.floor(Math.random() * 250) + 1}.1`;

function clientYaml(name: string, mac: string, vmName: string): string {
  return `apiVersion: wimaxvm.io/v1alpha1\nkind: WimaxClient\nmetadata:\n  name: ${name}\nspec:\n  mac: "${mac}"\n  vmName: ${vmName}\n`;
}

const sliceBox = (page: Page, vm: string) => page.locator(`article.slice[data-id="default/${vm}"]`);

describe.runIf(enabled)('the web console in a real browser, against a real controller', () => {
  let bed: OvsTestbed;
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let base: string;

  beforeAll(async () => {
    execFileSync('ip', ['link', 'add', NEAR, 'type', 'veth', 'peer', 'name', FAR]);
    execFileSync('ip', ['addr', 'add', `${API_ADDRESS}/30`, 'dev', NEAR]);
    execFileSync('ip', ['link', 'set', NEAR, 'up']);
    execFileSync('ip', ['link', 'set', FAR, 'up']);
    bed = OvsTestbed.create({ vmPorts: [vmPortName(A), vmPortName(B)], vmTags: null });
    h = await Harness.create();
    const tokenFile = join(h.stateDir, '..', 'token');
    writeFileSync(tokenFile, TOKEN);
    h.flags = { nic: `ovs:${bed.bridge}`, uplink: bed.uplink, poll: '200ms', 'traffic-interval': '1s', listen: `${API_ADDRESS}:0`, 'api-token-file': tokenFile };
    // A runs once: stopped by hand, it stays stopped, so the page has time to show it.
    h.write('slices.yaml', vmYaml({ name: A, runStrategy: 'Once' }) + '---\n' + vmYaml({ name: B }));
    h.write('st1.yaml', clientYaml('st1', bed.st1.mac, A));
    h.write('st2.yaml', clientYaml('st2', bed.st2.mac, B));
    h.write('lost.yaml', clientYaml('lost', '00:11:22:33:44:99', `ui-${run}-nowhere`));
    h.write('twins.yaml', clientYaml('twin-1', '00:11:22:33:44:77', B) + '---\n' + clientYaml('twin-2', '00:11:22:33:44:77', B));
    const running = await h.start();
    base = `http://${API_ADDRESS}:${running.httpAddress!.port}`;
    browser = await Browser.launch();
    ({ page, errors } = await browser.page());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.dispose();
    bed?.dispose();
    try { execFileSync('ip', ['link', 'del', NEAR]); } catch { /* never made */ }
  });

  it('off loopback, needs the token: the stream refuses without it, the page asks for it', async () => {
    const refused = await SseClient.open(`${base}/ui/events`);
    expect(refused.status).toBe(401);
    const withToken = await SseClient.open(`${base}/ui/events`, { authorization: `Bearer ${TOKEN}` });
    expect(withToken.status).toBe(200);
    withToken.close();

    await page.goto(`${base}/ui`);
    await page.fill('input[name="token"]', 'not-the-token');
    await page.click('button[type="submit"]');
    await page.waitForSelector('#failed:not([hidden])');
    expect(await page.locator('#slices').count()).toBe(0); // still the login form
    await browser.screenshot(page, 'login-refused');
    await page.fill('input[name="token"]', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForSelector('body[data-ready="true"]');
    expect(page.url()).toBe(`${base}/ui/`);
  });

  it('shows the slices with their VLAN and state, the stations inside, unbound and conflicting stations apart', async () => {
    for (const vm of [A, B]) {
      await sliceBox(page, vm).and(page.locator('[data-state="Running"]')).waitFor();
      const vlan = h.status(vm)!.allocations.vlan!;
      expect(await sliceBox(page, vm).locator('.vlan').textContent()).toBe(`VLAN ${vlan}`);
    }
    await sliceBox(page, A).locator('li.station[data-id="default/st1"][data-state="Bound"]').waitFor();
    await sliceBox(page, B).locator('li.station[data-id="default/st2"][data-state="Bound"]').waitFor();
    expect(await sliceBox(page, A).locator('li.station .mac').textContent()).toBe(bed.st1.mac);
    await page.locator('#unbound li.station[data-id="default/lost"]').waitFor();
    expect(await page.locator('#unbound li.station[data-id="default/lost"] .why').textContent()).toBe('Pending: VMNotFound');
    await page.locator('#conflicts li.station[data-state="Conflict"]').nth(1).waitFor();
    expect(await sliceBox(page, B).locator('li.station').count()).toBe(1); // the twins are not in B's box
    await browser.screenshot(page, 'testbed');
  });

  it('a station added in a file appears in its slice without a reload', async () => {
    await page.evaluate(() => { (window as unknown as { stayed: boolean }).stayed = true; });
    h.write('st3.yaml', clientYaml('st3', '00:11:22:33:44:88', A));
    await sliceBox(page, A).locator('li.station[data-id="default/st3"][data-state="Bound"]').waitFor();
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  });

  it('draws live rates from the traffic accounting: a station pinging its slice', async () => {
    // Pings of 1000 bytes every 50 ms from st2 to its slice's VM, until the page shows them.
    const ping = spawn('ip', ['netns', 'exec', bed.st2.ns, 'ping', '-q', '-i', '0.05', '-s', '1000', bed.vmB.ip], { stdio: 'ignore' });
    try {
      const station = sliceBox(page, B).locator('li.station[data-id="default/st2"]');
      await eventually(async () => /↑\d/.test(await station.locator('.rate').textContent() ?? '') && !/↑0 /.test(await station.locator('.rate').textContent() ?? ''), 'st2 sending, on the page');
      await eventually(async () => /↓[1-9]/.test(await sliceBox(page, B).locator('.slice-head .rate').textContent() ?? ''), 'slice B answering, on the page');
      expect(await station.locator('svg.spark polyline.up').getAttribute('points')).not.toBe('');
      await browser.screenshot(page, 'live-rates');
    } finally {
      ping.kill();
    }
  });

  it('a VM stopped by hand turns its slice\'s state, and its stations\' (no reload)', async () => {
    await h.observer.destroy(A);
    await sliceBox(page, A).and(page.locator('[data-state="Stopped"]')).waitFor();
    await sliceBox(page, A).locator('li.station[data-id="default/st1"][data-state="Pending"]').waitFor();
    expect(await sliceBox(page, B).getAttribute('data-state')).toBe('Running');
    await browser.screenshot(page, 'slice-stopped');
  });

  it('shows a VM\'s conditions and recent events on selection, as text', async () => {
    // An event whose message carries markup: it must show as characters, never as elements.
    const markup = '<img src=x id=injected onerror="document.body.dataset.pwned=1"> <b>bold</b>';
    (h.running!.mode.events).record(resourceKey(VM_KIND, 'default', A), 'Warning', 'Injected', markup);
    await sliceBox(page, A).locator('.slice-head').click();
    await page.locator('#detail h2', { hasText: `VirtualMachine default/${A}` }).waitFor();
    await page.locator('#detail .conditions td', { hasText: 'Ready' }).first().waitFor();
    await page.locator('#detail .events .reason', { hasText: 'Injected' }).waitFor();
    expect(await page.locator('#detail .events .message').first().textContent()).toBe(markup);
    expect(await page.locator('#detail img, #injected').count()).toBe(0);
    expect(await page.getAttribute('body', 'data-pwned')).toBeNull();
    await browser.screenshot(page, 'detail');
    expect(errors).toEqual([]);
  });

  it('filters by slice state', async () => {
    await page.selectOption('#filter-slice', 'Stopped');
    await eventually(async () => (await page.locator('article.slice:not([hidden])').count()) === 1, 'only the stopped slice shown');
    expect(await sliceBox(page, A).isVisible()).toBe(true);
    await page.selectOption('#filter-slice', '');
  });
});
