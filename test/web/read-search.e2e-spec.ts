// Unread badges and searching a room in the web client, in headless Chromium against three real
// nodes: alice (node1) is in two rooms, bob (node2) writes in the one she is not looking at.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Browser } from 'playwright-core';
import { appErrors, connect, createRoom, describeWithBrowser, joinRoom, launchBrowser, openPage, screenshot, send, waitForText, type ChatPage } from './support/browser';
import { TestCluster } from './support/cluster';

declare const document: any;

const run = describeWithBrowser();

run('web client: unread badges and search (Chromium, three real nodes)', () => {
  jest.setTimeout(60000);
  let cluster: TestCluster;
  let browser: Browser;
  let alice: ChatPage;
  let bob: ChatPage;
  const stamp = Date.now().toString(36).slice(-5);
  const BUSY = `busy-${stamp}`;
  const QUIET = `quiet-${stamp}`;

  const badgeOf = (p: ChatPage, name: string) =>
    p.page.$eval('#joined-list', (el: any, n: string) => [...el.querySelectorAll('.room-item')].find((b: any) => b.querySelector('.name')?.textContent === n)?.querySelector('.badge.unread')?.textContent ?? null, name);
  /** alice's read marker in the room named `name`, as node1's chat.db holds it. */
  const storedMarker = (name: string): number => {
    const db = new DatabaseSync(join(cluster.nodes[0].process.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
    try {
      const row = db.prepare('SELECT m.sequence_number AS s FROM read_markers m JOIN rooms r ON r.room_id = m.room_id WHERE r.room_name = ? AND m.username = ?').get(name, 'alice') as { s: number } | undefined;
      return row ? Number(row.s) : 0;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-web.mjs'), '--no-typecheck'], { stdio: 'pipe' });
    cluster = await TestCluster.start(3);
    browser = await launchBrowser();
    alice = await openPage(browser, 'alice', cluster.nodes[0].url);
    bob = await openPage(browser, 'bob', cluster.nodes[1].url);
    await connect(alice, 'alice');
    await connect(bob, 'bob');
    await createRoom(alice, BUSY, 'where bob writes');
    await joinRoom(bob, BUSY);
    await createRoom(alice, QUIET, 'where alice looks');
  });

  afterAll(async () => {
    for (const p of [alice, bob]) if (p) await screenshot(p, 'read-search').catch(() => undefined);
    await browser?.close();
    await cluster?.stop();
  });

  it("counts bob's messages in the room alice is not looking at, and clears the badge (and marks it read on the server) when she opens it", async () => {
    for (const text of ['apple pie for dessert', 'cherry <b>tart</b> for dessert', 'no sweets here']) await send(bob, text);
    await alice.page.waitForFunction((n: string) => [...document.querySelectorAll('#joined-list .room-item')].some((b: any) => b.querySelector('.name')?.textContent === n && b.querySelector('.badge.unread')?.textContent === '3'), BUSY);
    await alice.page.locator('#joined-list .room-item', { hasText: BUSY }).click();
    await waitForText(alice, 'no sweets here');
    expect(await badgeOf(alice, BUSY)).toBeNull();
    await alice.page.waitForFunction(() => document.title === 'Chat');
    const deadline = Date.now() + 10000;
    while (storedMarker(BUSY) < 3 && Date.now() < deadline) await alice.page.waitForTimeout(100);
    expect(storedMarker(BUSY)).toBe(3);
  });

  it('searches the room with Enter: newest first, matched words marked, markup in messages shown as text; Escape closes it', async () => {
    await alice.page.fill('#search-input', 'dessert');
    await alice.page.press('#search-input', 'Enter');
    await alice.page.waitForSelector('#search-results:not([hidden]) #search-list li');
    const results = await alice.page.$$eval('#search-list li', (lis: any[]) => lis.map((li) => ({ text: li.querySelector('.text').textContent, marked: [...li.querySelectorAll('mark')].map((m: any) => m.textContent), bold: li.querySelectorAll('b').length })));
    expect(results).toEqual([
      { text: 'cherry <b>tart</b> for dessert', marked: ['dessert'], bold: 0 },
      { text: 'apple pie for dessert', marked: ['dessert'], bold: 0 },
    ]);
    expect(await alice.page.textContent('#search-status')).toContain('2 messages match');
    // search syntax is only text; nothing found is said so
    await alice.page.fill('#search-input', 'NOT "pie');
    await alice.page.press('#search-input', 'Enter');
    await alice.page.waitForFunction(() => /match|No messages/.test(document.querySelector('#search-status')?.textContent ?? '') && !/Searching/.test(document.querySelector('#search-status')?.textContent ?? ''));
    expect(await alice.page.textContent('#search-status')).toMatch(/No messages match/);
    await alice.page.press('#search-input', 'Escape');
    expect(await alice.page.isHidden('#search-results')).toBe(true);
    expect(await alice.page.evaluate(() => document.activeElement?.id)).toBe('message-input');
    expect([...appErrors(alice), ...appErrors(bob)]).toEqual([]);
  });
});
