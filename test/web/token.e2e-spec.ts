// AUTH_MODE=token in the browser: the web client takes a token (from ?token= or the connect
// screen), sends it on every WebSocket URL, and keeps it when it reconnects to another node.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ClientTokens } from '../../src/common/auth/client-tokens';
import { TestClient } from '../support/test-client';
import { appErrors, describeWithBrowser, joinRoom, launchBrowser, openPage, screenshot, send, waitForText, type ChatPage } from './support/browser';
import { TestCluster } from './support/cluster';

declare const location: any;

const run = describeWithBrowser();
const SECRET = 'web-token-e2e-secret-0123456789abcdef';
const tokens = new ClientTokens(SECRET);

run('web client in token mode (Chromium, three real nodes)', () => {
  jest.setTimeout(90000);
  let cluster: TestCluster;
  let browser: Browser;
  const pages: ChatPage[] = [];
  const clients: TestClient[] = [];
  const ROOM = `tokens-${Date.now().toString(36).slice(-5)}`;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-web.mjs'), '--no-typecheck'], { stdio: 'pipe' });
    // three nodes: with node1 killed, node2 and node3 are the majority that acknowledges messages
    cluster = await TestCluster.start(3, { AUTH_MODE: 'token', AUTH_SECRET: SECRET });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await browser?.close();
    await cluster?.stop();
  });

  it('connects with ?token= (the name comes from the token), chats, and reconnects with it after its node is killed', async () => {
    // the room lives on node2, which stays up; bob watches from there
    const bob = await TestClient.connect(`ws://${cluster.nodes[1].address}/?token=${await tokens.mint('bob', '1h')}`);
    clients.push(bob);
    const created = await bob.request('create_room', { room_name: ROOM, creator_id: 'bob' }, 'room_created');
    await bob.request('join_room', { room_id: created.data.room_id, username: 'bob' }, 'join_room_success');

    const alice = await openPage(browser, 'token-alice', `${cluster.nodes[0].url}?token=${await tokens.mint('alice', '1h')}`);
    pages.push(alice);
    expect(await alice.page.inputValue('#username')).toBe('alice');
    expect(await alice.page.evaluate(() => location.search)).toBe(''); // the credential left the address bar
    await alice.page.click('#connect-form button[type=submit]');
    await alice.page.waitForSelector('#conn[data-status="open"]');
    await joinRoom(alice, ROOM);
    await send(alice, 'hello with a token');
    await bob.nextOf('new_message', 10000).then((f) => expect(f.data).toMatchObject({ username: 'alice', content: 'hello with a token' }));

    await cluster.killNode(cluster.nodes[0]);
    await alice.page.waitForSelector('#conn:not([data-status="open"])');
    await alice.page.waitForSelector('#conn[data-status="open"]', { timeout: 30000 });
    expect(await alice.page.textContent('#conn')).toContain(cluster.nodes[1].address);
    await send(alice, 'still alice after the reconnect');
    const echoed = await bob.nextOf('new_message', 15000);
    expect(echoed.data).toMatchObject({ username: 'alice', content: 'still alice after the reconnect' });
    await waitForText(alice, 'still alice after the reconnect');
    await screenshot(alice, 'token-01-reconnected');
  });

  it('takes a token typed on the connect screen, and refuses one that names someone else', async () => {
    const carol = await openPage(browser, 'token-carol', cluster.nodes[1].url);
    pages.push(carol);
    // a token of another cluster: the node answers the upgrade with 401, which the page cannot see but explains
    await carol.page.fill('#token', await new ClientTokens('some-other-cluster-secret-0123456789').mint('carol', '1h'));
    await carol.page.click('#connect-form button[type=submit]');
    await carol.page.waitForSelector('.notice >> text=does not accept the connection', { timeout: 15000 });
    expect(await carol.page.getAttribute('#conn', 'data-status')).not.toBe('open');
    await carol.page.click('#logout');
    await carol.page.fill('#username', 'mallory');
    await carol.page.fill('#token', await tokens.mint('carol', '1h'));
    expect(await carol.page.inputValue('#username')).toBe('carol'); // the token decides the name
    await carol.page.fill('#username', 'mallory');
    await carol.page.click('#connect-form button[type=submit]');
    expect(await carol.page.textContent('#connect-error')).toMatch(/token is for 'carol'/);
    await carol.page.fill('#username', 'carol');
    await carol.page.click('#connect-form button[type=submit]');
    await carol.page.waitForSelector('#conn[data-status="open"]');
    await joinRoom(carol, ROOM);
    await waitForText(carol, 'still alice after the reconnect');
  });

  it('had no console errors (the pages run under the Content-Security-Policy)', () => {
    for (const p of pages) expect({ page: p.name, errors: appErrors(p) }).toEqual({ page: p.name, errors: [] });
  });
});
