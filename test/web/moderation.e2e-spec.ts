// Moderation in the web client, in headless Chromium against three real nodes: alice (node1)
// creates the room, bob (node2) and carol (node3) join. Only alice's member list has moderator
// actions at first; she appoints bob with the keyboard through the confirmation dialog, bob mutes
// carol for a length he picks and kicks her with a reason, Escape cancels a ban, alice bans carol,
// both reload and still know who moderates and who is banned and see every action again (the join
// reply's moderation_log), bob lifts the ban and carol is back.
// Every page shows what happened as the room's own line, names and reasons escaped.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { appErrors, connect, createRoom, DESKTOP, describeWithBrowser, joinRoom, launchBrowser, openPage, PHONE, screenshot, send, waitForText, type ChatPage } from './support/browser';
import { TestCluster } from './support/cluster';

declare const document: any;

const run = describeWithBrowser();

run('web client: moderation (Chromium, three real nodes)', () => {
  jest.setTimeout(90000);
  let cluster: TestCluster;
  let browser: Browser;
  let alice: ChatPage;
  let bob: ChatPage;
  let carol: ChatPage;
  const ROOM = `moderated-${Date.now().toString(36).slice(-5)}`;
  const CAROL = 'carol<i>';
  /** The moderation requests each page sent, as frames (checked for what the dialog put in them). */
  const sent = new Map<ChatPage, { type: string; data: Record<string, unknown> }[]>();

  const button = (p: ChatPage, type: string, member: string) => p.page.locator(`#member-list button[data-moderate="${type}"][data-member="${member}"]`);
  /** Presses a member-list button with the keyboard, as a user tabbing to it would; the dialog opens. */
  const press = async (p: ChatPage, type: string, member: string) => {
    await button(p, type, member).focus();
    await p.page.keyboard.press('Enter');
    await p.page.waitForSelector('#action-dialog[open]');
  };
  const dialogClosed = (p: ChatPage) => p.page.waitForSelector('#action-dialog:not([open])', { state: 'attached' });
  const systemLine = (p: ChatPage, text: string) =>
    p.page.waitForFunction((t) => [...document.querySelectorAll('#messages li.sys')].some((e: any) => (e.textContent as string).includes(t)), text, { timeout: 15000 });
  const role = (p: ChatPage, member: string) =>
    p.page.evaluate((m) => [...document.querySelectorAll('#member-list li')].find((e: any) => e.querySelector('.member-name')?.textContent === m)?.querySelector('.role')?.textContent ?? null, member);
  /** The text of every line of the room's log, in page order. */
  const lines = (p: ChatPage) => p.page.$$eval('#messages li', (els: any[]) => els.map((e) => e.textContent as string));
  const banned = (p: ChatPage) => p.page.$$eval('#banned:not([hidden]) #banned-list .member-name', (els: any[]) => els.map((e) => e.textContent as string));
  const focused = (p: ChatPage) => p.page.evaluate(() => ({ id: document.activeElement?.id ?? '', type: document.activeElement?.dataset?.moderate ?? '', member: document.activeElement?.dataset?.member ?? '' }));

  beforeAll(async () => {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-web.mjs'), '--no-typecheck'], { stdio: 'pipe' });
    cluster = await TestCluster.start(3);
    browser = await launchBrowser();
    alice = await openPage(browser, 'alice', cluster.nodes[0].url);
    bob = await openPage(browser, 'bob', cluster.nodes[1].url);
    carol = await openPage(browser, 'carol', cluster.nodes[2].url);
    for (const p of [alice, bob, carol]) {
      const frames: { type: string; data: Record<string, unknown> }[] = [];
      sent.set(p, frames);
      p.page.on('websocket', (ws) =>
        ws.on('framesent', (f) => {
          const frame = JSON.parse(String(f.payload));
          if (/^(add_moderator|(kick|ban|unban|mute)_member)$/.test(frame.type)) frames.push(frame);
        }),
      );
    }
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

  it("shows moderator actions only to the room's creator, never beside the creator; the creator is marked", async () => {
    expect(await button(alice, 'ban_member', CAROL).count()).toBe(1);
    expect(await button(alice, 'add_moderator', CAROL).count()).toBe(1);
    expect(await bob.page.locator('#member-list button[data-moderate]').count()).toBe(0);
    expect(await carol.page.locator('#member-list button[data-moderate]').count()).toBe(0);
    expect(await role(bob, 'alice')).toBe('creator');
  });

  it('the creator appoints a moderator through the dialog; the new moderator gets the actions, but none on the creator', async () => {
    await press(alice, 'add_moderator', 'bob');
    expect(await alice.page.textContent('#action-title')).toBe('Make bob a moderator?');
    expect(await focused(alice)).toMatchObject({ id: 'action-confirm' }); // nothing to type: Enter confirms
    await alice.page.keyboard.press('Enter');
    await dialogClosed(alice);
    await systemLine(bob, 'You are now a moderator (appointed by alice)');
    await systemLine(carol, 'bob is now a moderator');
    expect(await role(alice, 'bob')).toBe('moderator');
    await bob.page.waitForSelector(`#member-list button[data-moderate="mute_member"][data-member="${CAROL}"]`);
    expect(await bob.page.locator('#member-list button[data-member="alice"]').count()).toBe(0);
    expect(await button(alice, 'add_moderator', 'bob').count()).toBe(0);
  });

  it('a moderator mutes for the length he picks; the member cannot send', async () => {
    await press(bob, 'mute_member', CAROL);
    expect(await focused(bob)).toMatchObject({ id: 'action-duration' });
    await bob.page.keyboard.press('ArrowDown'); // 5 minutes -> 15 minutes
    await bob.page.keyboard.press('ArrowDown'); // -> 1 hour
    await bob.page.keyboard.press('Tab'); // Cancel
    await bob.page.keyboard.press('Tab'); // Mute
    await bob.page.keyboard.press('Enter');
    await dialogClosed(bob);
    await systemLine(carol, 'You were muted by bob');
    await systemLine(alice, `${CAROL} was muted by bob`);
    expect(sent.get(bob)!.filter((f) => f.type === 'mute_member').map((f) => f.data.seconds)).toEqual([3600]);
    await send(carol, 'let me speak');
    await carol.page.waitForFunction(() => /muted/i.test(document.querySelector('#messages')?.textContent ?? ''), undefined, { timeout: 15000 });
  });

  it('Kick asks for a reason everyone sees (as text); the kicked page says so and may join again', async () => {
    await press(bob, 'kick_member', CAROL);
    expect(await focused(bob)).toMatchObject({ id: 'action-reason' });
    await screenshot(bob, 'moderation-kick-dialog');
    await bob.page.keyboard.type('spamming <b>links</b>');
    await bob.page.keyboard.press('Enter');
    await dialogClosed(bob);
    await systemLine(alice, `${CAROL} was removed from the room by bob: spamming <b>links</b>.`);
    await systemLine(carol, 'You were removed from the room by bob: spamming <b>links</b>.');
    await alice.page.waitForFunction((n) => ![...document.querySelectorAll('#member-list .member-name')].some((e: any) => e.textContent === n), CAROL);
    await carol.page.waitForSelector('#room-banner:not([hidden])');
    await carol.page.locator('#room-banner button', { hasText: 'Join again' }).click();
    await alice.page.waitForSelector(`#member-list button[data-moderate="ban_member"][data-member="${CAROL}"]`);
  });

  it('Escape cancels a ban (on a phone-sized screen, where the dialog fits): nothing is sent and focus goes back to the Ban button', async () => {
    const before = sent.get(alice)!.length;
    await alice.page.setViewportSize(PHONE);
    await alice.page.click('#members-toggle');
    await press(alice, 'ban_member', CAROL);
    await alice.page.keyboard.type('never mind');
    const box = await alice.page.locator('#action-dialog').boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await screenshot(alice, 'moderation-phone-ban-dialog');
    await alice.page.keyboard.press('Escape');
    await dialogClosed(alice);
    expect(await focused(alice)).toEqual({ id: '', type: 'ban_member', member: CAROL });
    await alice.page.setViewportSize(DESKTOP);
    await alice.page.waitForTimeout(300);
    expect(sent.get(alice)!.length).toBe(before);
    expect(await carol.page.locator('#room-banner:not([hidden])').count()).toBe(0);
  });

  it('Ban removes the member and keeps them out; the moderators see the name under Banned', async () => {
    await press(alice, 'ban_member', CAROL);
    await alice.page.keyboard.type('third strike');
    await alice.page.keyboard.press('Enter');
    await dialogClosed(alice);
    await systemLine(carol, 'You were banned from the room by alice: third strike.');
    await carol.page.locator('#room-banner button', { hasText: 'Join again' }).click();
    await carol.page.waitForFunction(() => /You are banned from/.test(document.querySelector('#notices')?.textContent ?? ''), undefined, { timeout: 15000 });
    await alice.page.waitForFunction((n) => [...document.querySelectorAll('#banned-list .member-name')].some((e: any) => e.textContent === n), CAROL);
    expect(await banned(bob)).toEqual([CAROL]);
    await send(alice, 'order restored');
    await waitForText(alice, 'order restored');
  });

  it('after a reload the pages still know who moderates and who is banned, and show every action in its place (the join reply says)', async () => {
    for (const p of [alice, bob]) await p.page.reload();
    for (const p of [alice, bob]) await p.page.waitForFunction((n) => [...document.querySelectorAll('#banned-list .member-name')].some((e: any) => e.textContent === n), CAROL, { timeout: 20000 });
    expect(await role(alice, 'bob')).toBe('moderator');
    expect(await role(bob, 'bob')).toBe('moderator');
    expect(await bob.page.locator('#banned-list button[data-unban]').count()).toBe(1);
    // the moderation notices of moderation_log, as the live lines read, once each, in time order
    // among the replayed messages (the ban came before alice's "order restored")
    await waitForText(alice, 'order restored');
    const notices = [
      'bob is now a moderator (appointed by alice).',
      `${CAROL} was muted by bob until`,
      `${CAROL} was removed from the room by bob: spamming <b>links</b>.`,
      `${CAROL} was banned from the room by alice: third strike.`,
    ];
    for (const t of notices) await systemLine(alice, t);
    const shown = await lines(alice);
    const at = [...notices, 'order restored'].map((t) => shown.findIndex((l) => l.includes(t)));
    expect(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]))).toBe(true);
    for (const t of notices) expect(shown.filter((l) => l.includes(t))).toHaveLength(1);
    await systemLine(bob, 'You are now a moderator (appointed by alice).');
    expect(await alice.page.locator('#messages i, #messages b').count()).toBe(0); // escaped
    await screenshot(alice, 'moderation-after-reload');
  });

  it('a moderator lifts the ban with Unban; the member joins again', async () => {
    await bob.page.locator(`#banned-list button[data-unban="${CAROL}"]`).focus();
    await bob.page.keyboard.press('Enter');
    await systemLine(alice, `${CAROL} was unbanned by bob`);
    await alice.page.waitForSelector('#banned', { state: 'hidden' });
    await carol.page.locator('#room-banner button', { hasText: 'Join again' }).click();
    await alice.page.waitForSelector(`#member-list button[data-moderate="kick_member"][data-member="${CAROL}"]`);
    // the escaped name and reason never became markup on any page
    for (const p of [alice, bob, carol]) expect(await p.page.locator('#messages i, #messages b, #member-list i').count()).toBe(0);
    // carol joined again twice: the notices of her join replies that her page showed live are not repeated
    expect((await lines(carol)).filter((l) => l.includes('You were removed from the room by bob'))).toHaveLength(1);
    expect((await lines(carol)).filter((l) => l.includes('You were banned from the room by alice'))).toHaveLength(1);
    expect([...appErrors(alice), ...appErrors(bob), ...appErrors(carol)]).toEqual([]);
  });
});
