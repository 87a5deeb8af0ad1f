// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the web e2e tests.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { describeWithTool, requireTool } from '../../support/system-tools';

// Page callbacks run in the browser; the root tsconfig has no DOM lib, so declare what they use.
declare const document: any;

export const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts', 'web');
export const PUBLIC_DIR = join(__dirname, '..', '..', '..', 'dist', 'public');

/**
 * `describe` for a suite that drives Chromium: skipped, with one line saying what to install, where
 * it is missing; under CI (CI=true) a missing Chromium is an error, so nothing passes untested.
 */
export const describeWithBrowser = (): jest.Describe => describeWithTool('chromium');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: requireTool('chromium'),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export interface ChatPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  name: string;
}

export const PHONE = { width: 390, height: 780 };
export const DESKTOP = { width: 1200, height: 760 };

export async function openPage(
  browser: Browser,
  name: string,
  url: string,
  viewport = DESKTOP,
): Promise<ChatPage> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, timezoneId: 'UTC', locale: 'en-GB' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`[console] ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`[pageerror] ${e.message}`));
  await page.goto(url);
  return { page, context, errors, name };
}

/** Console errors other than the browser's own log line for a refused WebSocket connection. */
export function appErrors(p: ChatPage): string[] {
  return p.errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
}

export async function screenshot(p: ChatPage, step: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${step}-${p.name}.png`);
  await p.page.screenshot({ path: file });
  return file;
}

/** Fills the connect screen and waits until the page is connected. */
export async function connect(p: ChatPage, username: string, otherNodes?: string): Promise<void> {
  await p.page.fill('#username', username);
  if (otherNodes !== undefined) await p.page.fill('#nodes', otherNodes);
  await p.page.press('#username', 'Enter');
  await p.page.waitForSelector('#conn[data-status="open"]');
}

export async function createRoom(p: ChatPage, name: string, description: string): Promise<void> {
  await p.page.fill('#room-name', name);
  await p.page.fill('#room-desc-input', description);
  await p.page.click('#create-form button[type=submit]');
  await p.page.waitForFunction((n) => document.querySelector('#room-title')?.textContent === n, name);
}

/** Clicks a room in "All rooms" (refreshing the list until it shows) and waits for the chat view. */
export async function joinRoom(p: ChatPage, name: string): Promise<void> {
  const item = p.page.locator('#room-list .room-item', { hasText: name });
  for (let i = 0; i < 50 && (await item.count()) === 0; i++) {
    await p.page.click('#refresh');
    await p.page.waitForTimeout(200);
  }
  await item.first().click();
  await p.page.waitForFunction((n) => document.querySelector('#room-title')?.textContent === n, name);
}

export async function send(p: ChatPage, text: string): Promise<void> {
  await p.page.fill('#message-input', text);
  await p.page.press('#message-input', 'Enter');
}

/** The displayed messages of the open room: sequence numbers and texts, in display order. */
export async function shownMessages(p: ChatPage): Promise<{ seq: number; who: string; text: string }[]> {
  return p.page.$$eval('#messages li.msg:not(.pending)', (els: any[]) =>
    els.map((el) => ({
      seq: Number(el.dataset.seq),
      who: el.querySelector('.who')?.textContent ?? '',
      text: el.querySelector('.text')?.textContent ?? '',
    })),
  );
}

export async function waitForText(p: ChatPage, text: string, timeout = 15000): Promise<void> {
  await p.page.waitForFunction(
    (t) => [...document.querySelectorAll('#messages li.msg:not(.pending) .text')].some((e: any) => e.textContent === t),
    text,
    { timeout },
  );
}
