// Moderation in the web client, in headless Chromium against three real nodes: alice (node1)
// creates the room, bob (node2) and carol (node3) join. alice's member list has Kick, Ban and Mute
// beside their names (bob's and carol's have none); she uses them with the keyboard, and every page
// shows what happened as the room's own line, the name escaped.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { appErrors, connect, createRoom, describeWithBrowser, joinRoom, launchBrowser, openPage, screenshot, send, waitForText, type ChatPage } from './support/browser';
import { TestCluster } from './support/cluster';

declare const document: any;

const run = describeWithBrowser();

run('web client: moderation (Chromium, three real nodes)', () => {
  jest.setTimeout(60000);
  let cluster: TestCluster;
  let browser: Browser;
  let alice: ChatPage;
  let bob: ChatPage;
  let carol: ChatPage;
  const ROOM = `moderated-${Date.now().toString(36).slice(-5)}`;
  const CAROL = 'carol<i>';

  const button = (p: ChatPage, type: string, member: string) => p.page.locator(`#member-list button[data-moderate="${type}"][data-member="${member}"]`);
  /** Presses a member-list button with the keyboard, as a user tabbing to it would. */
  const press = async (p: ChatPage, type: string, member: string) => {
    await button(p, type, member).focus();
    await p.page.keyboard.press('Enter');
  };
  const systemLine = (p: ChatPage, text: string) =>
    p.page.waitForFunction((t) => [...document.querySelectorAll('#messages li.sys')].some((e: any) => (e.textContent as string).includes(t)), text, { timeout: 15000 });

  beforeAll(async () => {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-web.mjs'), '--no-typecheck'], { stdio: 'pipe' });
    cluster = await TestCluster.start(3);
    browser = await launchBrowser();
    alice = await openPage(browser, 'alice', cluster.nodes[0].url);
    bob = await openPage(browser, 'bob', cluster.nodes[1].url);
    carol = await openPage(browser, 'carol', cluster.nodes[2].url);
    await connect(alice, 'alice');
    await connect(bob, 'bob');
    await connect(carol, CAROL);
    await createRoom(alice, ROOM, 'mind your manners');
    await joinRoom(bob, ROOM);
    await joinRoom(carol, ROOM);
    await alice.page.waitForSelector('#member-list button[data-moderate="kick_member"][data-member="bob"]');
  });

  afterAll(async () => {
    for (const p of [alice, bob, carol]) if (p) await screenshot(p, 'moderation').catch(() => undefined);
    await browser?.close();
    await cluster?.stop();
  });

  it('shows moderator actions only to the room\'s creator, never beside the creator', async () => {
    expect(await button(alice, 'ban_member', CAROL).count()).toBe(1);
    expect(await bob.page.locator('#member-list button[data-moderate]').count()).toBe(0);
    expect(await carol.page.locator('#member-list button[data-moderate]').count()).toBe(0);
  });

  it('Mute refuses the member\'s messages; every page shows the line', async () => {
    await press(alice, 'mute_member', 'bob');
    await systemLine(carol, 'bob was muted by alice');
    await systemLine(bob, 'You were muted by alice');
    await send(bob, 'let me speak');
    await bob.page.waitForFunction(() => /muted/i.test(document.querySelector('#messages')?.textContent ?? ''), undefined, { timeout: 15000 });
  });

  it('Kick removes the member on every page; the kicked page says so and may join again', async () => {
    await press(alice, 'kick_member', CAROL);
    await systemLine(bob, `${CAROL} was removed from the room by alice`);
    await systemLine(carol, 'You were removed from the room by alice');
    await bob.page.waitForFunction((n) => ![...document.querySelectorAll('#member-list li')].some((e: any) => (e.textContent as string).startsWith(n)), CAROL);
    await carol.page.waitForSelector('#room-banner:not([hidden])');
    await carol.page.locator('#room-banner button', { hasText: 'Join again' }).click();
    await alice.page.waitForSelector(`#member-list button[data-moderate="ban_member"][data-member="${CAROL}"]`);
  });

  it('Ban removes the member and keeps them out', async () => {
    await press(alice, 'ban_member', CAROL);
    await systemLine(carol, 'You were banned from the room by alice');
    await carol.page.locator('#room-banner button', { hasText: 'Join again' }).click();
    await carol.page.waitForFunction(() => /You are banned from/.test(document.querySelector('#notices')?.textContent ?? ''), undefined, { timeout: 15000 });
    await send(alice, 'order restored');
    await waitForText(alice, 'order restored');
    // the escaped name never became markup on any page
    for (const p of [alice, bob, carol]) expect(await p.page.locator('#messages i').count()).toBe(0);
    expect([...appErrors(alice), ...appErrors(bob), ...appErrors(carol)]).toEqual([]);
  });
});
