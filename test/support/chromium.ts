/**
 * Debian's headless Chromium, for tests that check what a page renders: the DOM after
 * rendering, and a screenshot. It fails with the way to install it, never skips.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const CHROMIUM = process.env.SERE_CHROMIUM ?? '/usr/bin/chromium';
// --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run'];

function check(): void {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium package)`);
}

/** The page's DOM once rendered. */
export async function renderedDom(url: string): Promise<string> {
  check();
  const { stdout } = await run(CHROMIUM, [...FLAGS, '--dump-dom', url], { maxBuffer: 64 << 20, timeout: 60_000 });
  return stdout;
}

/** A PNG of the page, `width`×`height` px, written to `file`. */
export async function screenshot(url: string, file: string, width = 1200, height = 1800): Promise<void> {
  check();
  await run(CHROMIUM, [...FLAGS, `--window-size=${width},${height}`, `--screenshot=${file}`, url], { timeout: 60_000 });
}
