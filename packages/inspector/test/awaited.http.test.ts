/**
 * The awaited-payments page over real HTTP: each state listed with its columns, every value
 * escaped, the tabs and the gateway filter, the "sweep now" button behind auth, write permission
 * and the CSRF token, and a sweep's report.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryAwaitedList, createPaymentHub } from '@payhook/core';
import { postDelivery, signedDelivery } from '@payhook/core/testing';
import { createInspector } from '../src';
import { formatIso } from '../src/views';
import { ADMIN, VIEWER, basicHeader, startShop, type Shop } from './helpers';

const HOSTILE_ORDER = '<script>alert(1)</script>';
const HOSTILE_REF = `R-"&'<b>`;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A row: each cell by its class (HTML, still escaped), with the row's key and state attributes. */
type Row = Record<string, string> & { key: string; dataState: string };

/** The awaited table's rows: each cell by its class, as HTML (still escaped). */
function rows(html: string): Row[] {
  return [...html.matchAll(/<tr data-key="([^"]*)" data-state="([^"]*)">([\s\S]*?)<\/tr>/g)].map(
    ([, key, state, inner]) => ({
      ...Object.fromEntries(
        [...inner!.matchAll(/<td class="([a-z -]+)">([\s\S]*?)<\/td>/g)].map(([, name, cell]) => [
          name!.replace(/^num /, ''),
          cell!,
        ]),
      ),
      key: key!,
      dataState: state!,
    }),
  );
}

const ENTITIES: Record<string, string> = {
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#x27;': "'",
  '&#x3D;': '=',
  '&#x60;': '`',
  '&amp;': '&',
};
/** A cell's text as a browser shows it: tags dropped, entities decoded. */
const text = (cell: string | undefined): string =>
  (cell ?? '')
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|quot|#x27|#x3D|#x60|amp);/g, (e) => ENTITIES[e]!)
    .trim();

describe('the awaited payments page', () => {
  let shop: Shop;
  const get = (path: string, user = ADMIN) =>
    fetch(`${shop.url}/payhook${path}`, { headers: { authorization: basicHeader(user) } });
  const page = async (path: string) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    return response.text();
  };
  const sweepForm = async (base = '/payhook'): Promise<string> => {
    const html = await (
      await fetch(`${shop.url}${base}/awaited`, { headers: { authorization: basicHeader(ADMIN) } })
    ).text();
    return /id="sweep-form">\s*<input type="hidden" name="csrf" value="([^"]+)"/.exec(html)![1]!;
  };
  const postSweep = (body: string, headers: Record<string, string> = {}, base = '/payhook') =>
    fetch(`${shop.url}${base}/awaited/sweep`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });

  beforeAll(async () => {
    shop = await startShop();
    const { hub, gateway } = shop;
    const later = Date.now() + 3_600_000;
    // Settled by its webhook; lost webhook, paid at the gateway; never paid, short until; and one
    // awaiting whose ids a forger chose.
    await hub.expectPayment(gateway.provider, { orderId: 'AW-WEB', until: later });
    await hub.expectPayment(gateway.provider, { orderId: 'AW-REC', until: later });
    await hub.expectPayment(gateway.provider, { orderId: 'AW-LATE', until: Date.now() + 30 });
    await hub.expectPayment(gateway.provider, {
      orderId: HOSTILE_ORDER,
      reference: HOSTILE_REF,
      until: later,
    });
    const webhook = signedDelivery({ txn: 'AT-WEB', order: 'AW-WEB' });
    expect((await postDelivery(`${shop.url}/webhooks/test`, webhook)).status).toBe(200);
    gateway.paid('AT-REC', 'AW-REC');
    await wait(60);
  });
  afterAll(() => shop.close());

  it('is linked from every page and lists every state with its columns, escaped', async () => {
    expect(await page('/')).toContain(`<a href='/payhook/awaited'>Awaited payments</a>`);
    const html = await page('/awaited');
    const all = rows(html);
    expect(all.map((r) => [text(r.order), r.dataState]).sort()).toEqual(
      [
        ['AW-LATE', 'awaiting'],
        ['AW-REC', 'awaiting'],
        ['AW-WEB', 'settled'],
        [HOSTILE_ORDER, 'awaiting'],
      ].sort(),
    );
    // The forger's ids reach the page as text only.
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b>');
    const hostile = all.find((r) => r.key.includes('&lt;script'))!;
    expect(hostile.order).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(hostile.reference).toBe('R-&quot;&amp;&#x27;&lt;b&gt;');
    expect(hostile.key).toBe('test-gateway:order:&lt;script&gt;alert(1)&lt;/script&gt;');

    const web = all.find((r) => text(r.order) === 'AW-WEB')!;
    const stored = (await shop.hub.awaited.get('test-gateway:order:AW-WEB'))!;
    expect(web).toMatchObject({
      gateway: 'test-gateway',
      reference: '',
      checks: '0',
      'last-result': '',
      'settled-by': 'webhook',
      event: '<a href="/payhook/events/test-gateway%3AAT-WEB%3Apaid">test-gateway:AT-WEB:paid</a>',
    });
    // Times are ISO 8601 UTC with an explicit Z, to the second.
    expect(web.until).toBe(
      `<time datetime="${formatIso(stored.until)}">${formatIso(stored.until)}</time>`,
    );
    expect(text(web.until)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(text(web['settled-at'])).toBe(formatIso(stored.settledAt));
    expect(text(web['settled-at'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // Past its until with no sweep yet: still awaiting, flagged, and counted overdue.
    const late = all.find((r) => text(r.order) === 'AW-LATE')!;
    expect(text(late.state)).toBe('awaiting past until');
    expect(all.filter((r) => r.state?.includes('past-until'))).toEqual([late]);
    expect(text(/<p class="muted" id="awaited-counts">([\s\S]*?)<\/p>/.exec(html)![1])).toMatch(
      /^Now: 2 awaiting, 1 overdue .*, 1 settled\.$/,
    );
  });

  it('filters by state (tabs) and by gateway', async () => {
    const orders = async (query: string) =>
      rows(await page(`/awaited${query}`))
        .map((r) => text(r.order))
        .sort();
    expect(await orders('?state=settled')).toEqual(['AW-WEB']);
    expect(await orders('?state=overdue')).toEqual([]);
    expect(await orders('?state=awaiting')).toHaveLength(3);
    // An unknown state is no filter; a gateway with no awaited payment lists none.
    expect(await orders('?state=bogus')).toHaveLength(4);
    const cashy = await page('/awaited?gateway=cashy&state=awaiting');
    expect(rows(cashy)).toEqual([]);
    expect(cashy).toContain('No awaited payment matches.');
    expect(await orders('?gateway=test-gateway&state=settled')).toEqual(['AW-WEB']);
    // The tabs keep the gateway, and mark the tab shown.
    expect(cashy).toContain(
      '<a href="/payhook/awaited?state&#x3D;settled&amp;gateway&#x3D;cashy">settled</a>',
    );
    expect(cashy).toContain(
      '<a href="/payhook/awaited?state&#x3D;awaiting&amp;gateway&#x3D;cashy" aria-current="page" class="current">awaiting</a>',
    );
  });

  it('refuses a sweep without credentials, without the CSRF token, to a read-only login or inspector', async () => {
    const token = await sweepForm();
    const csrf = `csrf=${encodeURIComponent(token)}`;
    expect((await postSweep(csrf)).status).toBe(401);
    const wrong = await postSweep(csrf, {
      authorization: basicHeader({ username: ADMIN.username, password: 'not the password' }),
    });
    expect(wrong.status).toBe(401);
    const admin = { authorization: basicHeader(ADMIN) };
    const none = await postSweep('', admin);
    expect(none.status).toBe(403);
    const noneText = await none.text();
    expect(noneText).toContain('CSRF');
    expect(noneText).toContain(`href='/payhook/awaited' id='error-back'`);
    expect((await postSweep('csrf=forged', admin)).status).toBe(403);
    const viewer = await postSweep(csrf, { authorization: basicHeader(VIEWER) });
    expect(viewer.status).toBe(403);
    expect(await viewer.text()).toContain('viewer may not replay, retry or sweep.');
    const readOnly = await postSweep(csrf, admin, '/payhook-ro');
    expect(readOnly.status).toBe(403);
    expect(await readOnly.text()).toContain('read-only');
    expect((await get('/awaited/sweep')).status).toBe(405);
    // Neither a read-only login nor a read-only inspector is offered the button.
    expect(await (await get('/awaited', VIEWER)).text()).not.toContain('id="sweep"');
    const ro = await fetch(`${shop.url}/payhook-ro/awaited`, { headers: admin });
    expect(await ro.text()).not.toContain('id="sweep"');
    // Nothing was asked and nothing changed.
    expect(shop.gateway.asked).toEqual([]);
    expect((await shop.hub.awaited.counts(Date.now())).settled).toBe(1);
  });

  it('sweeps with the token: recovers the paid one, makes the late one overdue, shows the report', async () => {
    const token = await sweepForm();
    const response = await fetch(`${shop.url}/payhook/awaited/sweep?state=settled`, {
      method: 'POST',
      headers: {
        authorization: basicHeader(ADMIN),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `csrf=${encodeURIComponent(token)}`,
    });
    expect(response.status).toBe(200);
    const html = await response.text();
    const report = /<div class="notice" id="sweep-result">([\s\S]*?)<\/div>/.exec(html)![1]!;
    const count = (field: string) =>
      Number(new RegExp(`data-field="${field}">(\\d+) `).exec(report)![1]);
    expect([
      count('recovered'),
      count('overdue'),
      count('alreadySettled'),
      count('errors'),
    ]).toEqual([1, 1, 0, 0]);
    expect(count('leased')).toBeGreaterThanOrEqual(3);
    expect(text(report)).toMatch(/^Swept: \d+ looked at, \d+ asked, 1 recovered, /);
    // The page answered is the tab the form was on: settled, now with the recovered payment.
    const settled = rows(html);
    expect(settled.map((r) => text(r.order)).sort()).toEqual(['AW-REC', 'AW-WEB']);
    const recovered = settled.find((r) => text(r.order) === 'AW-REC')!;
    // Core's list keeps `checks` as of the last rescheduled query: the answer that settled it is
    // not counted (settle() takes no check count).
    expect([recovered['settled-by'], recovered.checks]).toEqual(['status query', '0']);
    expect(recovered.event).toContain('href="/payhook/events/test-gateway%3AAT-REC%3Apaid"');

    const overdue = rows(await page('/awaited?state=overdue'));
    // Asked once (its last query, at until), though `checks` says 0: expire() takes no count either.
    expect(shop.gateway.asked.filter((key) => key === 'AW-LATE')).toHaveLength(1);
    expect(overdue.map((r) => [text(r.order), text(r.state), r.checks, r['last-result']])).toEqual([
      ['AW-LATE', 'overdue', '0', 'unknown to the gateway'],
    ]);
    const awaiting = rows(await page('/awaited?state=awaiting'));
    expect(awaiting).toHaveLength(1);
    expect(Number(awaiting[0]!.checks)).toBeGreaterThanOrEqual(1);
    expect(awaiting[0]!['last-result']).toBe('unknown to the gateway');
  });

  it('links an event id to the delivery that processed it; 404 for one the inbox does not keep', async () => {
    const byStatus = await page('/events/test-gateway%3AAT-REC%3Apaid');
    expect(byStatus).toMatch(/<dt>Transport<\/dt><dd>status-query<\/dd>/);
    expect(byStatus).toContain('AW-REC');
    const byWebhook = await page('/events/test-gateway%3AAT-WEB%3Apaid');
    expect(byWebhook).toMatch(/<dt>Transport<\/dt><dd>http<\/dd>/);
    const missing = await get('/events/test-gateway%3Anone%3Apaid');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('No delivery of event test-gateway:none:paid');
  });
});

describe('a failing awaited list', () => {
  it('answers the page with 500 and logs it, as for a failing inbox', async () => {
    const errors: unknown[] = [];
    const list = createMemoryAwaitedList();
    const hub = createPaymentHub({
      awaited: { list: { ...list, list: () => Promise.reject(new Error('list down')) } },
      logger: { debug() {}, info() {}, warn() {}, error: (o: unknown) => void errors.push(o) },
    });
    const inspector = createInspector({ hub, auth: { basic: [ADMIN] } });
    const server: Server = createServer((req, res) => inspector(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/awaited`;
      const page = await fetch(url, { headers: { authorization: basicHeader(ADMIN) } });
      expect(page.status).toBe(500);
      expect(await page.text()).not.toContain('list down');
      expect(errors).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hub.close();
    }
  });
});
