// Private rooms and direct messages in the web client, in headless Chromium against three real
// nodes: alice (node1) creates a private room with the checkbox, which bob (node2) and carol
// (node3) never see listed; bob opens a direct conversation from alice's name in a public room,
// alice opens it from bob's name and lands in the same room with its history; carol sees neither.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { appErrors, connect, createRoom, describeWithBrowser, joinRoom, launchBrowser, openPage, screenshot, send, waitForText, type ChatPage } from './support/browser';
import { TestCluster } from './support/cluster';

declare const document: any;

const run = describeWithBrowser();

run('web client: private rooms and direct messages (Chromium, three real nodes)', () => {
  jest.setTimeout(60000);
  let cluster: TestCluster;
  let browser: Browser;
  let alice: ChatPage;
  let bob: ChatPage;
  let carol: ChatPage;
  const suffix = Date.now().toString(36).slice(-5);
  const SECRET = `secret-${suffix}`;
  const PUBLIC = `lobby-${suffix}`;
  const DIRECT = 'alice ↔ bob';

  /** The names in "All rooms" after a refresh that lists `until` (or after a few tries). */
  const listedNames = async (p: ChatPage, until: string): Promise<string[]> => {
    for (let i = 0; i < 25; i++) {
      await p.page.click('#refresh');
      await p.page.waitForTimeout(200);
      const names = await p.page.$$eval('#room-list .room-item .name', (els: any[]) => els.map((e) => e.textContent as string));
      if (names.includes(until)) return names;
    }
    throw new Error(`${until} never listed on ${p.name}'s page`);
  };

  beforeAll(async () => {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-web.mjs'), '--no-typecheck'], { stdio: 'pipe' });
    cluster = await TestCluster.start(3);
    browser = await launchBrowser();
    alice = await openPage(browser, 'alice', cluster.nodes[0].url);
    bob = await openPage(browser, 'bob', cluster.nodes[1].url);
    carol = await openPage(browser, 'carol', cluster.nodes[2].url);
    for (const [p, name] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) await connect(p, name);
  });

  afterAll(async () => {
    for (const p of [alice, bob, carol]) if (p) await screenshot(p, 'private-rooms').catch(() => undefined);
    await browser?.close();
    await cluster?.stop();
  });

  it('a room created with "Private" is listed (marked private) to its creator only', async () => {
    await alice.page.check('#room-private');
    await createRoom(alice, SECRET, 'just me');
    expect(await alice.page.isChecked('#room-private')).toBe(false);
    await listedNames(alice, SECRET);
    expect(await alice.page.locator('#room-list .room-item', { hasText: SECRET }).locator('.badge', { hasText: 'private' }).count()).toBe(1);
    await createRoom(alice, PUBLIC, 'everyone');
    for (const p of [bob, carol]) expect(await listedNames(p, PUBLIC)).not.toContain(SECRET);
  });

  it("a member's Message button opens the direct conversation; the other end opens the same one, with its history", async () => {
    await joinRoom(bob, PUBLIC);
    await bob.page.click('#member-list button[data-direct="alice"]');
    await bob.page.waitForFunction((n) => document.querySelector('#room-title')?.textContent === n, DIRECT);
    await send(bob, 'psst, alice');
    await waitForText(bob, 'psst, alice');
    await alice.page.locator('#joined-list .room-item', { hasText: PUBLIC }).click();
    await alice.page.waitForSelector('#member-list button[data-direct="bob"]');
    await alice.page.click('#member-list button[data-direct="bob"]');
    await alice.page.waitForFunction((n) => document.querySelector('#room-title')?.textContent === n, DIRECT);
    await waitForText(alice, 'psst, alice');
    await send(alice, 'hi bob');
    await waitForText(bob, 'hi bob');
    expect(await listedNames(carol, PUBLIC)).not.toContain(DIRECT);
    await listedNames(bob, DIRECT);
    expect(await bob.page.locator('#room-list .room-item', { hasText: DIRECT }).locator('.badge', { hasText: 'direct' }).count()).toBe(1);
    for (const p of [alice, bob, carol]) expect(appErrors(p)).toEqual([]);
  });
});
