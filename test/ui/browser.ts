/** Debian's Chromium driven by puppeteer-core (no browser download), with the flags this machine needs. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const ARTIFACTS = ".state/artifacts";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), "weft-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir,
    defaultViewport: { width: 1400, height: 1000 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until the page's visible text matches (checked inside the page), or fails with what it showed instead. */
export async function waitForText(page: Page, pattern: RegExp, timeoutMs = 45_000): Promise<string> {
  try {
    await page.waitForFunction(
      (source, flags) => new RegExp(source, flags).test(document.body?.innerText ?? ""),
      { timeout: timeoutMs, polling: 500 },
      pattern.source,
      pattern.flags,
    );
  } catch {
    const text = await page.evaluate(() => document.body?.innerText ?? "");
    throw new Error(`page ${page.url()} never showed ${pattern}; it showed:\n${text.slice(0, 2000)}`);
  }
  return await page.evaluate(() => document.body.innerText);
}

export async function screenshot(page: Page, name: string, fullPage = true) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage });
}
