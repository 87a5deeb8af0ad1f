// The web client in headless Chromium against an in-memory fake cluster (test/web/support/
// fake-cluster.ts): rendering, keyboard use, escaping, history paging, error notices, phone layout
// and reconnect. The same flows against real nodes are in cluster.e2e-spec.ts.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  appErrors,
  describeWithBrowser,
  connect,
  createRoom,
  joinRoom,
  launchBrowser,
  openPage,
  PHONE,
  screenshot,
  send,
  shownMessages,
  waitForText,
  type ChatPage,
} from './support/browser';
import { FakeCluster } from './support/fake-cluster';

declare const document: any;

const run = describeWithBrowser();

run('web client in Chromium (fake cluster)', () => {
  jest.setTimeout(60000);
  let cluster: FakeCluster;
  let browser: Browser;
  const pages: ChatPage[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-web.mjs'), '--no-typecheck'], { stdio: 'pipe' });
    cluster = await new FakeCluster().start(3);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  async function page(name: string, nodeIndex: number, viewport?: { width: number; height: number }, query = '') {
    const node = cluster.nodes[nodeIndex];
    const others = cluster.nodes.filter((n) => n !== node).map((n) => n.address).join(',');
    const p = await openPage(browser, name, `http://${node.address}/?nodes=${others}${query}`, viewport);
    pages.push(p);
    return p;
  }

  it('serves a connect screen prefilled with the serving node and the ?nodes list', async () => {
    const p = await page('connect', 0);
    expect(await p.page.inputValue('#node')).toBe(cluster.nodes[0].address);
    expect(await p.page.inputValue('#nodes')).toBe(`${cluster.nodes[1].address}, ${cluster.nodes[2].address}`);
    await p.page.click('#connect-form button[type=submit]');
    expect(await p.page.textContent('#connect-error')).toMatch(/Enter a name/);
    await screenshot(p, 'fake-00-connect');
    await p.context.close();
  });

  it('two pages on two nodes create, join and chat; keyboard Enter sends; content is escaped', async () => {
    const alice = await page('alice', 0);
    const bob = await page('bob', 1);
    await connect(alice, 'alice');
    await connect(bob, 'bob');
    await createRoom(alice, 'general', 'Talk about <anything>');
    expect(await alice.page.textContent('#room-desc')).toBe('Talk about <anything>');
    await joinRoom(bob, 'general');
    await alice.page.waitForFunction(() => document.querySelector('#member-list')?.textContent.includes('bob'));
    await send(alice, 'hello bob');
    await waitForText(bob, 'hello bob');
    await send(bob, '<img src=x onerror="window.__pwned=1"> hi alice');
    await waitForText(alice, '<img src=x onerror="window.__pwned=1"> hi alice');
    expect(await alice.page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
    expect(await alice.page.inputValue('#message-input')).toBe('');
    const a = await shownMessages(alice);
    expect(a.map((m) => m.seq)).toEqual([1, 2]);
    expect(a.map((m) => m.who)).toEqual(['alice', 'bob']);
    expect(await bob.page.locator('#delete').isHidden()).toBe(true);
    expect(await alice.page.locator('#delete').isVisible()).toBe(true);
    await screenshot(alice, 'fake-01-chat');
    await screenshot(bob, 'fake-01-chat');
  });

  it('a late joiner sees the last 100 messages and scrolls up for older ones', async () => {
    const room = cluster.findRoom('general')!;
    for (let i = 3; i <= 160; i++) cluster.post(room.room_id, i % 2 ? 'alice' : 'bob', `history line ${i}`);
    const carol = await page('carol', 2);
    await connect(carol, 'carol');
    await joinRoom(carol, 'general');
    await waitForText(carol, 'history line 160');
    let shown = await shownMessages(carol);
    expect(shown[0].seq).toBe(61);
    expect(shown.length).toBe(100);
    await carol.page.evaluate(() => (document.querySelector('#scroller').scrollTop = 0));
    await carol.page.waitForFunction(() => document.querySelector('#messages li.msg')?.dataset.seq === '11');
    await carol.page.evaluate(() => (document.querySelector('#scroller').scrollTop = 0));
    await carol.page.waitForFunction(() => document.querySelector('#messages li.msg')?.dataset.seq === '1');
    shown = await shownMessages(carol);
    expect(shown.map((m) => m.seq)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
    expect(await carol.page.locator('#load-older').isHidden()).toBe(true);
    await screenshot(carol, 'fake-02-history');
  });

  it('shows a clear notice for a message that is too long', async () => {
    const alice = pages.find((p) => p.name === 'alice')!;
    await alice.page.fill('#message-input', 'x'.repeat(5001));
    await alice.page.press('#message-input', 'Enter');
    await alice.page.waitForSelector('.notice.error');
    expect(await alice.page.textContent('.notice.error')).toMatch(/Message too long: 5001 characters, the limit is 5000/);
    expect(await alice.page.textContent('#counter')).toBe('5001 / 5000');
    await screenshot(alice, 'fake-03-too-long');
    await alice.page.fill('#message-input', '');
  });

  it('is usable with the keyboard alone', async () => {
    const kim = await page('kim', 2);
    // The name field has focus on load; Enter connects.
    await kim.page.keyboard.type('kim');
    await kim.page.keyboard.press('Enter');
    await kim.page.waitForSelector('#conn[data-status="open"]');
    // Create a room: type, Enter submits the form.
    await kim.page.focus('#room-name');
    await kim.page.keyboard.type('keyboard-room');
    await kim.page.keyboard.press('Tab');
    await kim.page.keyboard.type('made without a mouse');
    await kim.page.keyboard.press('Enter');
    await kim.page.waitForFunction(() => document.querySelector('#room-title')?.textContent === 'keyboard-room');
    // The message box has focus after joining: type and Enter sends; Shift+Enter adds a line.
    await kim.page.keyboard.type('line one');
    await kim.page.keyboard.press('Shift+Enter');
    await kim.page.keyboard.type('line two');
    await kim.page.keyboard.press('Enter');
    await waitForText(kim, 'line one\nline two');
    // Rooms in the list are buttons: focus one and press Enter to open it.
    await kim.page.locator('#room-list .room-item', { hasText: 'general' }).focus();
    await kim.page.keyboard.press('Enter');
    await kim.page.waitForFunction(() => document.querySelector('#room-title')?.textContent === 'general');
    await screenshot(kim, 'fake-04-keyboard');
    await kim.context.close();
  });

  it('is usable on a phone-sized screen', async () => {
    const dave = await page('dave-phone', 0, PHONE);
    await connect(dave, 'dave');
    await screenshot(dave, 'fake-04-phone-lobby');
    await joinRoom(dave, 'general');
    await waitForText(dave, 'history line 160');
    expect(await dave.page.locator('#lobby').isHidden()).toBe(true);
    const overflow = await dave.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await send(dave, 'from my phone');
    await waitForText(dave, 'from my phone');
    await screenshot(dave, 'fake-04-phone-room');
    await dave.page.click('#members-toggle');
    await screenshot(dave, 'fake-04-phone-members');
    await dave.page.click('#back');
    expect(await dave.page.locator('#lobby').isVisible()).toBe(true);
    await dave.context.close();
  });

  it('reconnects to another node when its node stops, and misses nothing', async () => {
    const bob = pages.find((p) => p.name === 'bob')!; // on node 2
    const alice = pages.find((p) => p.name === 'alice')!;
    const before = (await shownMessages(bob)).length;
    await cluster.nodes[1].stop();
    await bob.page.waitForSelector('#conn[data-status="reconnecting"]');
    await send(alice, 'while bob was away 1');
    await send(alice, 'while bob was away 2');
    await bob.page.waitForSelector('#conn[data-status="open"]', { timeout: 20000 });
    await waitForText(bob, 'while bob was away 2');
    await send(bob, 'back again');
    await waitForText(alice, 'back again');
    const shown = await shownMessages(bob);
    const seqs = shown.map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(seqs[seqs.length - 1] - seqs[0] + 1).toBe(seqs.length);
    expect(shown.length).toBeGreaterThanOrEqual(before + 3);
    expect(await bob.page.textContent('#conn')).toMatch(/connected to 127\.0\.0\.1:/);
    await screenshot(bob, 'fake-05-reconnected');
    await cluster.nodes[1].listen();
  });

  it('keeps its session over a page reload: connects again by itself and is back in its room', async () => {
    const bob = pages.find((p) => p.name === 'bob')!;
    const alice = pages.find((p) => p.name === 'alice')!;
    const before = await shownMessages(bob);
    await bob.page.reload();
    await bob.page.waitForSelector('#conn[data-status="open"]');
    expect(await bob.page.locator('#connect-view').isVisible()).toBe(false);
    await bob.page.waitForFunction(() => document.querySelector('#room-title')?.textContent === 'general');
    await waitForText(bob, before[before.length - 1].text);
    await send(bob, 'hello after a reload');
    await waitForText(alice, 'hello after a reload');
    await waitForText(bob, 'hello after a reload');
    const seqs = (await shownMessages(bob)).map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i)); // in order, no gap, no duplicate
    await screenshot(bob, 'fake-05b-reloaded');

    // Disconnect forgets the session: the next reload shows the connect screen.
    await bob.page.click('#logout');
    await bob.page.reload();
    await bob.page.waitForSelector('#connect-view:not([hidden])');
    expect(await bob.page.locator('#conn').getAttribute('data-status')).not.toBe('open');
    expect(await bob.page.inputValue('#username')).toBe('bob'); // the name is still prefilled
  });

  it('the creator deletes the room and the others see it go', async () => {
    const alice = pages.find((p) => p.name === 'alice')!;
    const carol = pages.find((p) => p.name === 'carol')!;
    await alice.page.click('#delete');
    expect(await alice.page.textContent('#delete')).toBe('Confirm delete');
    await alice.page.click('#delete');
    await alice.page.waitForSelector('.notice.success >> text=every node committed');
    await carol.page.waitForSelector('.notice >> text=has been deleted');
    expect(await carol.page.textContent('#room-banner')).toMatch(/deleted/);
    expect(await carol.page.locator('#message-input').isDisabled()).toBe(true);
    expect(await carol.page.locator('#room-list .room-item', { hasText: 'general' }).count()).toBe(0);
    await screenshot(alice, 'fake-06-deleted');
    await screenshot(carol, 'fake-06-deleted');
  });

  it('had no console errors', () => {
    for (const p of pages) expect({ page: p.name, errors: appErrors(p) }).toEqual({ page: p.name, errors: [] });
  });
});
