// The operators' status page (/status) in Chromium against a real three-node cluster, under a
// strict Content-Security-Policy (no inline script or style may run): three nodes up, then the
// killed one marked down. Screenshots go to test-artifacts/web/.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { appErrors, describeWithBrowser, launchBrowser, openPage, screenshot, type ChatPage } from './support/browser';
import { TestCluster } from '../support/cluster';
import { TestClient } from '../support/test-client';

declare const document: any;

const run = describeWithBrowser();
const STRICT_CSP = "default-src 'self'";

run('status page in Chromium against a real three-node cluster', () => {
  jest.setTimeout(60000);
  let cluster: TestCluster;
  let browser: Browser;
  let page: ChatPage;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-web.mjs'), '--no-typecheck'], { stdio: 'pipe' });
    cluster = await TestCluster.start(3);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  const cardState = (node: string) => page.page.getAttribute(`.node-card[data-node="${node}"]`, 'data-state');

  it('shows every node up with its counts, under a strict CSP, with no console errors', async () => {
    const client = await TestClient.connect(cluster.node(1).url);
    const roomId = (await client.request('create_room', { room_name: 'status-room', creator_id: 'olga' }, 'room_created')).data.room_id;
    await client.request('join_room', { room_id: roomId, username: 'olga' }, 'join_room_success');
    for (let i = 0; i < 3; i++) await client.request('send_message', { room_id: roomId, username: 'olga', content: `m${i}` }, 'message_sent');
    await client.close();

    page = await openPage(browser, 'status', 'about:blank', { width: 1200, height: 900 });
    await page.context.route('**/*', async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': STRICT_CSP } });
    });
    await page.page.goto(`${cluster.node(1).httpUrl}/status`);
    await page.page.waitForFunction(() => document.querySelectorAll('.node-card[data-state="up"]').length === 3, undefined, { timeout: 15000 });
    expect(await page.page.$$eval('.node-card h3', (els: any[]) => els.map((e) => e.textContent))).toEqual(['node1', 'node2', 'node3']);
    const node1 = await page.page.textContent('.node-card[data-node="node1"] .facts');
    expect(node1).toContain('1 hosted, 0 replica');
    expect(node1).toContain('3 sequenced here');
    await page.page.waitForFunction(() => document.querySelector('.node-card[data-node="node2"] .facts')?.textContent.includes('0 hosted, 1 replica'), undefined, { timeout: 15000 });
    expect(await page.page.locator('.node-card[data-node="node1"] .chart svg').count()).toBe(2);
    expect(await page.page.locator('#replication-rows tr').count()).toBe(6); // each node to its two peers
    expect(await page.page.textContent('#failover-list')).toContain('None recorded');
    await screenshot(page, 'status-three-up');
    expect(appErrors(page)).toEqual([]);
  });

  it('marks a killed node down and keeps refreshing on its own', async () => {
    await cluster.node(3).stop('SIGKILL');
    await page.page.waitForFunction(() => document.querySelector('.node-card[data-node="node3"]')?.dataset.state === 'down', undefined, { timeout: 20000 });
    expect(await cardState('node1')).toBe('degraded'); // node1 sees a failed peer
    expect(await page.page.textContent('.node-card[data-node="node3"]')).toContain('failed');
    expect(await page.page.textContent('.node-card[data-node="node2"] .peer-list')).toContain('node3: failed');
    // node1 sequenced 3 messages since its first sample: its message chart has drawn a line above zero
    await page.page.waitForFunction(() => document.querySelector('.node-card[data-node="node1"] .chart .line') !== null, undefined, { timeout: 15000 });
    expect(await page.page.textContent('.node-card[data-node="node1"] .chart .label')).toMatch(/messages: [\d.]+\/s now/);
    await screenshot(page, 'status-node3-down');
    expect(appErrors(page)).toEqual([]);
  });
});
