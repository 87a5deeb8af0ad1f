// Private rooms and direct messages in the web client, in headless Chromium against three real
// nodes: alice (node1) creates a private room with the checkbox, which bob (node2) and carol
// (node3) never see listed; bob opens a direct conversation from alice's name in a public room,
// alice opens it from bob's name and lands in the same room with its history; carol sees neither,
// until alice invites her to the private room with its Invite… button.
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

  it('Invite… (private rooms only) asks for a name in a dialog; the invited user is told, sees the room listed and joins it', async () => {
    // in open mode a connection is a user's once it joined a room: carol's page is told of the invitation from then on
    await joinRoom(carol, PUBLIC);
    // the direct conversation: nobody can be invited, and its two people are equals (no moderation,
    // no Message to the room shown, no Delete: the server keeps direct rooms)
    expect(await alice.page.isHidden('#invite')).toBe(true);
    for (const p of [alice, bob]) {
      expect(await p.page.textContent('#room-title')).toBe(DIRECT);
      expect(await p.page.locator('#member-list button, #member-list .role').count()).toBe(0);
      expect(await p.page.isHidden('#delete')).toBe(true);
    }
    await alice.page.locator('#joined-list .room-item', { hasText: PUBLIC }).click();
    await alice.page.waitForFunction((n) => document.querySelector('#room-title')?.textContent === n, PUBLIC);
    expect(await alice.page.isHidden('#invite')).toBe(true); // a public room: anyone may join
    await alice.page.locator('#joined-list .room-item', { hasText: SECRET }).click();
    await alice.page.waitForFunction((n) => document.querySelector('#room-title')?.textContent === n, SECRET);
    await alice.page.focus('#invite');
    await alice.page.keyboard.press('Enter');
    await alice.page.waitForSelector('#action-dialog[open]');
    expect(await alice.page.evaluate(() => document.activeElement?.id)).toBe('action-name');
    await alice.page.keyboard.press('Enter'); // no name yet: the dialog says so and stays open
    expect(await alice.page.textContent('#action-error')).toMatch(/name/i);
    await alice.page.keyboard.type('carol');
    expect(await alice.page.textContent('#action-error')).toBe(''); // typing clears it
    await screenshot(alice, 'private-rooms-invite-dialog');
    await alice.page.keyboard.press('Enter');
    await alice.page.waitForSelector('#action-dialog:not([open])', { state: 'attached' });
    expect(await alice.page.evaluate(() => document.activeElement?.id)).toBe('invite');
    await carol.page.waitForFunction((n) => (document.querySelector('#notices')?.textContent ?? '').includes(`alice invited you to the private room “${n}”`), SECRET, { timeout: 15000 });
    await listedNames(carol, SECRET);
    await joinRoom(carol, SECRET);
    await alice.page.waitForFunction(() => [...document.querySelectorAll('#member-list .member-name')].some((e: any) => e.textContent === 'carol'));
    expect(await listedNames(bob, DIRECT)).not.toContain(SECRET);
    for (const p of [alice, bob, carol]) expect(appErrors(p)).toEqual([]);
  });
});
