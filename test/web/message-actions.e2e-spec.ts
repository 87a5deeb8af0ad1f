// Editing, deleting and typing in the web client, in headless Chromium against three real nodes:
// alice (node1) creates the room, bob (node2) joins; every action is done with the keyboard where
// a user would.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { appErrors, connect, createRoom, describeWithBrowser, joinRoom, launchBrowser, openPage, screenshot, send, waitForText, type ChatPage } from './support/browser';
import { TestCluster } from './support/cluster';

declare const document: any;

const run = describeWithBrowser();

run('web client: edit, delete, typing (Chromium, three real nodes)', () => {
  jest.setTimeout(60000);
  let cluster: TestCluster;
  let browser: Browser;
  let alice: ChatPage;
  let bob: ChatPage;
  const ROOM = `edits-${Date.now().toString(36).slice(-5)}`;

  /** The message with `text` as one page shows it: its text, whether it says "(edited)", whether it is a tombstone. */
  const shown = (p: ChatPage, seq: number) =>
    p.page.$eval(`#messages li.msg[data-seq="${seq}"]`, (el: any) => ({ text: el.querySelector('.text')?.textContent, edited: !!el.querySelector('.edited'), deleted: el.classList.contains('deleted') }));
  const seqOf = (p: ChatPage, text: string) =>
    p.page.$eval(`#messages`, (el: any, t: string) => Number([...el.querySelectorAll('li.msg:not(.pending)')].find((li: any) => li.querySelector('.text')?.textContent === t)?.dataset.seq), text);

  beforeAll(async () => {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-web.mjs'), '--no-typecheck'], { stdio: 'pipe' });
    cluster = await TestCluster.start(3);
    browser = await launchBrowser();
    alice = await openPage(browser, 'alice', cluster.nodes[0].url);
    bob = await openPage(browser, 'bob', cluster.nodes[1].url);
    await connect(alice, 'alice');
    await connect(bob, 'bob');
    await createRoom(alice, ROOM, 'edits and deletions');
    await joinRoom(bob, ROOM);
  });

  afterAll(async () => {
    for (const p of [alice, bob]) if (p) await screenshot(p, 'message-actions').catch(() => undefined);
    await browser?.close();
    await cluster?.stop();
  });

  it('edits our last message with Up, Enter saves; the other page shows the new text and "(edited)"', async () => {
    await send(alice, 'helo wrold');
    await waitForText(bob, 'helo wrold');
    await alice.page.press('#message-input', 'ArrowUp');
    await alice.page.waitForSelector('#editing:not([hidden])');
    expect(await alice.page.inputValue('#message-input')).toBe('helo wrold');
    await alice.page.fill('#message-input', 'hello <world>');
    await alice.page.press('#message-input', 'Enter');
    await waitForText(bob, 'hello <world>');
    const seq = await seqOf(bob, 'hello <world>');
    expect(await shown(bob, seq)).toEqual({ text: 'hello <world>', edited: true, deleted: false });
    expect(await alice.page.isHidden('#editing')).toBe(true);
    // Escape leaves an edit without saving
    await alice.page.press('#message-input', 'ArrowUp');
    await alice.page.press('#message-input', 'Escape');
    expect(await alice.page.inputValue('#message-input')).toBe('');
  });

  it('shows "bob is typing…" on the other node\'s page, and it goes away', async () => {
    await bob.page.type('#message-input', 'thinking');
    await alice.page.waitForFunction(() => document.querySelector('#typing')?.textContent === 'bob is typing…');
    await alice.page.waitForFunction(() => document.querySelector('#typing')?.textContent === '', undefined, { timeout: 10000 });
    await bob.page.fill('#message-input', '');
  });

  it('deletes our own message with two presses of its Delete button; the other page keeps a tombstone', async () => {
    await send(bob, 'wrong room, sorry');
    await waitForText(alice, 'wrong room, sorry');
    const seq = await seqOf(bob, 'wrong room, sorry');
    const del = bob.page.locator(`#messages li.msg[data-seq="${seq}"] button[data-delete]`);
    await del.focus();
    await bob.page.keyboard.press('Enter');
    await bob.page.keyboard.press('Enter');
    await alice.page.waitForSelector(`#messages li.msg.deleted[data-seq="${seq}"]`);
    expect(await shown(alice, seq)).toEqual({ text: 'message deleted', edited: false, deleted: true });
    expect(await bob.page.$$(`#messages li.msg[data-seq="${seq}"] button`)).toHaveLength(0);
  });

  it('lets the room\'s creator delete another member\'s message', async () => {
    await send(bob, 'something rude');
    await waitForText(alice, 'something rude');
    const seq = await seqOf(alice, 'something rude');
    expect(await alice.page.$$(`#messages li.msg[data-seq="${seq}"] button[data-edit]`)).toHaveLength(0);
    const del = alice.page.locator(`#messages li.msg[data-seq="${seq}"] button[data-delete]`);
    await del.click();
    await del.click();
    await bob.page.waitForSelector(`#messages li.msg.deleted[data-seq="${seq}"]`);
    expect([...appErrors(alice), ...appErrors(bob)]).toEqual([]);
  });
});
