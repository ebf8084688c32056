import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { postDelivery, signedDelivery } from '@payhook/core/testing';
import { postFixture } from '@payhook/testing';
import { ADMIN, VIEWER, basicHeader, launchChromium, startShop, type Shop } from './helpers';
import { ensureChromium } from './chromium';

// At load, outside any hook's timeout: on a new machine this installs Debian's chromium first.
ensureChromium();

// The inspector in a real browser (Debian's Chromium), over real HTTP, against real gateways:
// Cashy (@payhook/payin, signed by @payhook/testing with the gateway's key) and core's test gateway.
// The README's screenshots are rewritten only when asked (`PAYHOOK_SCREENSHOTS=1`), so a test run
// leaves the checkout clean; otherwise they go to a scratch folder, taken all the same.
const DOCS = process.env.PAYHOOK_SCREENSHOTS
  ? path.join(__dirname, '..', 'docs')
  : mkdtempSync(path.join(tmpdir(), 'payhook-inspector-shots-'));
const HOSTILE = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`;

describe('inspector in Chromium', () => {
  let shop: Shop;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const refusedOrder = 'C-9001';

  beforeAll(async () => {
    shop = await startShop();
    // Cashy is configured with a wrong apiKey: its genuine deliveries are refused (401).
    const refused = await postFixture(
      `${shop.url}/webhooks/cashy`,
      shop.cashy.payin({ mchOrderNo: refusedOrder, amount: '100.10' }),
    );
    expect(refused.status).toBe(401);
    for (let i = 1; i <= 3; i++)
      expect(
        (
          await postDelivery(
            `${shop.url}/webhooks/test`,
            signedDelivery({ txn: `T-${i}`, order: `O-${i}`, amount: `${i}0.00` }),
          )
        ).status,
      ).toBe(200);
    const hostile = await postDelivery(
      `${shop.url}/webhooks/test`,
      signedDelivery({ txn: 'T-X', order: HOSTILE, amount: '1.00' }),
    );
    expect(hostile.status).toBe(200);
    browser = await launchChromium();
    context = await browser.newContext({
      httpCredentials: { username: ADMIN.username, password: ADMIN.password },
      viewport: { width: 1200, height: 800 },
    });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await shop?.close();
  });

  it('refuses a browser with no credentials, and wrong ones', async () => {
    const anonymous = await browser.newContext();
    const anonymousPage = await anonymous.newPage();
    // Headless Chromium cannot show the login prompt: it ends the navigation at the 401.
    const statuses: number[] = [];
    anonymousPage.on('response', (r) => statuses.push(r.status()));
    const none = await anonymousPage.goto(`${shop.url}/payhook/`).catch((e: Error) => e);
    expect(none instanceof Error ? none.message : '').toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
    expect(statuses).toEqual([401]);
    expect(await anonymousPage.locator('#deliveries').count()).toBe(0);
    await anonymous.close();
    const wrong = await browser.newContext({
      httpCredentials: { username: ADMIN.username, password: 'not the password' },
    });
    const wrongPage = await wrong.newPage();
    expect((await wrongPage.goto(`${shop.url}/payhook/`))!.status()).toBe(401);
    expect(await wrongPage.locator('#deliveries').count()).toBe(0);
    await wrong.close();
  });

  it('signs in and lists the deliveries, newest first, paginated', async () => {
    const response = await page.goto(`${shop.url}/payhook/`);
    expect(response!.status()).toBe(200);
    const gateways = await page.locator('#deliveries tbody td.gateway').allTextContents();
    // pageSize 5: the five deliveries, the newest (the hostile one) first, the refused Cashy last.
    expect(gateways).toEqual([
      'test-gateway',
      'test-gateway',
      'test-gateway',
      'test-gateway',
      'cashy',
    ]);
    const first = page.locator('#deliveries tbody tr').first();
    expect(await first.locator('td.order').textContent()).toBe(HOSTILE);
    const last = page.locator('#deliveries tbody tr').last();
    expect(await last.textContent()).toContain('ERR_SIGNATURE_INVALID');
    expect(await last.textContent()).toContain('401');
    await page.screenshot({ path: path.join(DOCS, 'inspector-list.png'), fullPage: true });
  });

  it('filters by gateway and by order id', async () => {
    await page.selectOption('#filter-gateway', 'cashy');
    await page.click('#filter-apply');
    expect(await page.locator('#deliveries tbody td.gateway').allTextContents()).toEqual(['cashy']);
    await page.goto(`${shop.url}/payhook/`);
    await page.fill('#filter-order', 'O-2');
    await page.click('#filter-apply');
    const rows = page.locator('#deliveries tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().locator('td.order').textContent()).toBe('O-2');
    expect(await rows.first().textContent()).toContain('20.00');
    await page.fill('#filter-order', 'no-such-order');
    await page.click('#filter-apply');
    expect(await page.locator('#empty').textContent()).toContain('No delivery matches');
  });

  it('opens a delivery: exact raw body, headers, events, reply', async () => {
    const expected = signedDelivery({ txn: 'T-2', order: 'O-2', amount: '20.00' });
    await page.goto(`${shop.url}/payhook/?order=O-2`);
    await page.click('#deliveries tbody tr >> text=open');
    expect(await page.locator('#raw-body').textContent()).toBe(expected.body);
    expect(await page.locator('#pretty-body').textContent()).toContain('"txn": "T-2"');
    expect(await page.locator('#headers').textContent()).toContain(
      expected.headers['x-test-signature'],
    );
    expect(await page.locator('#events').textContent()).toContain('"type": "payment.completed"');
    expect(await page.locator('#reply').textContent()).toContain('HTTP 200');
    expect(await page.locator('#outcome').textContent()).toBe('processed');
  });

  it('replays a refused delivery after the key is fixed: processed, then a duplicate', async () => {
    await page.goto(`${shop.url}/payhook/?gateway=cashy`);
    await page.click('#deliveries tbody tr >> text=open');
    expect(await page.locator('#errors').textContent()).toContain('ERR_SIGNATURE_INVALID');
    expect(shop.paid.map((e) => e.orderId)).not.toContain(refusedOrder);
    // Still the wrong key: the replay is verified again and refused again.
    await page.click('#replay');
    expect(await page.locator('#replay-result').textContent()).toContain('rejected');
    shop.fixCashyKey();
    await page.click('#replay');
    expect(await page.locator('#replay-result').textContent()).toContain('processed');
    expect(shop.paid.filter((e) => e.orderId === refusedOrder)).toHaveLength(1);
    await page.screenshot({ path: path.join(DOCS, 'inspector-delivery.png'), fullPage: true });
    // Again: the store knows the event now.
    await page.click('#replay');
    expect(await page.locator('#replay-result').textContent()).toContain('duplicate');
    expect(shop.paid.filter((e) => e.orderId === refusedOrder)).toHaveLength(1);
    expect(await page.locator('#attempts tbody tr').count()).toBe(4);
  });

  it('pages through the deliveries: older, then back to the newest', async () => {
    await page.goto(`${shop.url}/payhook/`);
    const firstPage = await page
      .locator('#deliveries tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(firstPage).toHaveLength(5);
    await page.click('#older');
    const secondPage = await page
      .locator('#deliveries tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    // 5 posted + 3 replays: three more, none of the first page's, the first delivery last.
    expect(secondPage).toHaveLength(3);
    expect(secondPage.some((id) => firstPage.includes(id))).toBe(false);
    expect(await page.locator('#deliveries tbody tr').last().textContent()).toContain('cashy');
    await page.click('#newer');
    expect(await page.locator('#deliveries tbody tr').count()).toBe(5);
  });

  it('lists dead letters and retries one, then all', async () => {
    await page.goto(`${shop.url}/payhook/`);
    await page.click('header >> text=Dead letters');
    const rows = page.locator('#dead-letters tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.first().textContent()).toContain(
      'ERR_LISTENER_FAILED: <b>listener a</b> threw',
    );
    await rows.first().locator('button').click();
    expect(await page.locator('#dead-result').textContent()).toBe('Retried dl-a.');
    expect(await rows.count()).toBe(2);
    await page.click('#retry-all');
    expect(await page.locator('#dead-result').textContent()).toBe('Retried 2.');
    expect(shop.deadLetters.retried).toEqual(['dl-a', 'dl-b', 'dl-c']);
    expect(await page.locator('#dead-letters').count()).toBe(0);
  });

  it('shows hostile payload strings as text: no element made, no script run', async () => {
    await page.goto(`${shop.url}/payhook/?transaction=T-X`);
    expect(await page.locator('#deliveries td.order').textContent()).toBe(HOSTILE);
    await page.click('#deliveries tbody tr >> text=open');
    expect(await page.locator('#raw-body').textContent()).toContain(HOSTILE.replace(/"/g, '\\"'));
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
    expect(dialogs).toEqual([]);
  });

  it('refuses a replay without the CSRF token, in read-only mode and for a read-only login', async () => {
    const list = await shop.hub.inbox!.list({ provider: 'test-gateway' }, { limit: 500 });
    const id = list.entries.at(-1)!.id;
    const before = (await shop.hub.inbox!.list({}, { limit: 500 })).entries.length;
    const post = (base: string, user: typeof ADMIN, body: string) =>
      fetch(`${shop.url}${base}/deliveries/${id}/replay`, {
        method: 'POST',
        headers: {
          authorization: basicHeader(user),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
    const noToken = await post('/payhook', ADMIN, '');
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toContain('CSRF');
    expect((await post('/payhook', ADMIN, 'csrf=forged')).status).toBe(403);
    // A real token, from the page the admin was served, is refused where the inspector is read-only.
    await page.goto(`${shop.url}/payhook/deliveries/${id}`);
    const token = await page.locator('#replay-form input[name=csrf]').getAttribute('value');
    expect(token).toBeTruthy();
    const readOnly = await post('/payhook-ro', ADMIN, `csrf=${encodeURIComponent(token!)}`);
    expect(readOnly.status).toBe(403);
    expect(await readOnly.text()).toContain('read-only');
    const viewer = await post('/payhook', VIEWER, `csrf=${encodeURIComponent(token!)}`);
    expect(viewer.status).toBe(403);
    // Nothing was replayed by any of them.
    expect((await shop.hub.inbox!.list({}, { limit: 500 })).entries.length).toBe(before);
    // And neither page offers the button.
    await page.goto(`${shop.url}/payhook-ro/deliveries/${id}`);
    expect(await page.locator('#replay').count()).toBe(0);
    expect(await page.locator('header .who').textContent()).toContain('read-only');
    // With the token, the same POST does replay (so the refusals above are the checks, not a bug).
    const allowed = await post('/payhook', ADMIN, `csrf=${encodeURIComponent(token!)}`);
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('duplicate');
  });

  it('lists awaited payments, an overdue and a settled one, and sweeps now from the page', async () => {
    const { hub, gateway } = shop;
    const later = Date.now() + 3_600_000;
    await hub.expectPayment(gateway.provider, { orderId: 'B-WEB', until: later });
    await hub.expectPayment(gateway.provider, { orderId: 'B-LATE', until: Date.now() + 30 });
    await hub.expectPayment(gateway.provider, { orderId: 'B-LOST', until: later });
    const webhook = signedDelivery({ txn: 'BT-WEB', order: 'B-WEB' });
    expect((await postDelivery(`${shop.url}/webhooks/test`, webhook)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // A sweep before the page: B-LATE's until has passed; B-LOST is not paid yet.
    expect((await hub.sweep()).overdue).toBe(1);
    // Then B-LOST is paid, and its webhook is lost: only the gateway's status API knows.
    gateway.paid('BT-LOST', 'B-LOST');

    await page.goto(`${shop.url}/payhook/`);
    await page.click('header >> text=Awaited payments');
    const row = (order: string) =>
      page.locator('#awaited tbody tr', { has: page.locator(`td.order:text-is("${order}")`) });
    expect(await row('B-LATE').getAttribute('data-state')).toBe('overdue');
    expect(await row('B-LATE').locator('td.last-result').textContent()).toBe(
      'unknown to the gateway',
    );
    expect(await row('B-WEB').getAttribute('data-state')).toBe('settled');
    expect(await row('B-WEB').locator('td.settled-by').textContent()).toBe('webhook');
    expect(await row('B-WEB').locator('td.until').textContent()).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    expect(await row('B-LOST').getAttribute('data-state')).toBe('awaiting');

    await page.click('#sweep');
    const report = await page.locator('#sweep-result').textContent();
    expect(report).toMatch(/^Swept: \d+ looked at, \d+ asked, 1 recovered, 0 already settled, /);
    expect(await row('B-LOST').getAttribute('data-state')).toBe('settled');
    expect(await row('B-LOST').locator('td.settled-by').textContent()).toBe('status query');
    // Its event id opens the delivery the status query recorded.
    await row('B-LOST').locator('td.event a').click();
    expect(await page.locator('h1').textContent()).toContain('Delivery');
    expect(await page.locator('#events').textContent()).toContain('"orderId": "B-LOST"');
    expect(dialogs).toEqual([]);
  });
});
