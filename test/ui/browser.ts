// Debian's headless Chromium driven by playwright-core: one browser per test file, with a fresh
// profile, and the flags that keep it off the (closed) network. Screenshots go to
// test-artifacts/ui/ (git-ignored).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../src/package-root.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(PACKAGE_ROOT, 'test-artifacts', 'ui');

/** Browser tests need Debian's chromium (scripts/install-deps.sh installs it). */
export function browserTestsEnabled(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`CI: ${CHROMIUM} is missing; scripts/install-deps.sh should have installed Debian's chromium`);
  console.warn(`browser tests skipped: ${CHROMIUM} is missing (bash scripts/install-deps.sh installs it)`);
  return false;
}

export class Browser {
  private constructor(readonly context: BrowserContext, private readonly profile: string) {}

  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'wimaxvm-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
    return new Browser(context, profile);
  }

  /** A page that fails the test on a script error or a refused policy. */
  async page(): Promise<{ page: Page; errors: string[] }> {
    const page = await this.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('console', (m) => { if (m.type() === 'error' && !/401|Unauthorized/.test(m.text())) errors.push(m.text()); });
    return { page, errors };
  }

  async screenshot(page: Page, name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path });
    return path;
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.profile, { recursive: true, force: true });
  }
}
