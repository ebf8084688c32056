import { instantToIso, validatePaymentEvent } from '@payhook/core/plugin';
import {
  buildLailaolabMessage,
  formatLailaolabTime,
  startLailaolabSimulator,
  type LailaolabSimulator,
} from '@payhook/testing';
import type { PaymentHubOptions } from '@payhook/core';
import { type LailaolabSource, type LailaolabSourceOptions } from '../src';
import { SECRET, settle, startTestSource } from './helpers';

// The doc sample (https://payment-doc.lailaolab.com/v1/subscription): transaction
// VobAkGl0gVKrVecIbo2ogYrIk, 100000 kip, 2024-03-28 22:30:50. Confirmed messages are bounded by
// the record's paid time (24 h by default), so they are paid a minute ago; the doc's own time is
// read on the trusted secret channel.
const DOC_TXN = 'VobAkGl0gVKrVecIbo2ogYrIk';
const DOC_AT = new Date('2024-03-28T15:30:50Z');
const RECENT = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);

let sim: LailaolabSimulator;
let sources: LailaolabSource[];

beforeEach(async () => {
  sim = await startLailaolabSimulator({ secretKey: SECRET });
  sources = [];
});

afterEach(async () => {
  for (const s of sources) await s.close();
  await sim.close();
});

function start(extra: Partial<LailaolabSourceOptions> = {}, hubOptions: PaymentHubOptions = {}) {
  return startTestSource(sim, sources, extra, hubOptions);
}

async function connected(
  extra: Partial<LailaolabSourceOptions> = {},
  hubOptions: PaymentHubOptions = {},
) {
  const t = start(extra, hubOptions);
  await t.rec.until((r) => r.up.length === 1, 'source.up');
  // The sweep every connect starts is over once this one (run after it) is.
  await t.source.sweep();
  return t;
}

describe('socket source: messages', () => {
  it('connects with the key URL-encoded and turns a SUCCESS message, confirmed, into payment.completed', async () => {
    const { rec, source } = await connected();
    expect(sim.connectedClients()).toBe(1);
    expect(rec.up[0]!.detail).toBe(`connected to ${sim.socketBase}`);
    sim.createTransaction({ transactionId: DOC_TXN, amount: 100000 });
    const message = sim.pay(DOC_TXN, { at: RECENT });
    expect(message.txnDateTime).toBe(formatLailaolabTime(RECENT));
    await rec.until((r) => r.events.length === 1, 'payment event');
    const event = rec.events[0]!;
    expect(validatePaymentEvent(event)).toBe(true);
    expect(event).toMatchObject({
      id: `lailaolab:${DOC_TXN}:completed`,
      type: 'payment.completed',
      provider: 'lailaolab',
      orderId: null,
      transactionId: DOC_TXN,
      amount: '100000',
      currency: 'LAK',
      occurredAt: instantToIso(RECENT.getTime(), 'Asia/Vientiane'),
      verification: 'status-query',
    });
    expect(event.details).toMatchObject({
      channel: 'socket',
      refNo: '001LNMI811581649255',
      exReferenceNo: 'BONEN5JL999C3ZLN',
      billNumber: DOC_TXN,
      paymentMethod: 'BCEL',
    });
    expect(event.raw).toEqual(message);
    expect(sim.statusRequests).toEqual([{ transactionId: DOC_TXN, authorized: true }]);
    expect(source.status()).toMatchObject({ state: 'connected', connected: true, watched: 0 });
    expect(source.status().lastMessageAt).not.toBeNull();
  });

  it('the doc sample on the trusted secret channel: its own time, verification secret-channel, no status query', async () => {
    const { rec } = await connected({ confirmByStatusQuery: false });
    sim.createTransaction({ transactionId: DOC_TXN, amount: 100000 });
    const message = sim.pay(DOC_TXN, { at: DOC_AT });
    expect(message.txnDateTime).toBe('2024-03-28 22:30:50');
    await rec.until((r) => r.events.length === 1, 'payment event');
    expect(rec.events[0]).toMatchObject({
      id: `lailaolab:${DOC_TXN}:completed`,
      amount: '100000',
      currency: 'LAK',
      occurredAt: '2024-03-28T22:30:50+07:00',
      verification: 'secret-channel',
      details: { channel: 'socket', billNumber: DOC_TXN },
    });
    expect(sim.statusRequests).toHaveLength(0);
  });

  it('turns a FAILED message into payment.failed once the status API says the payment failed', async () => {
    const { rec } = await connected();
    sim.createTransaction({ transactionId: 'T-FAIL', amount: 5000 });
    sim.fail('T-FAIL', { recordStatus: 'FAILED' });
    await rec.until((r) => r.events.length === 1, 'failed event');
    expect(rec.events[0]).toMatchObject({
      id: 'lailaolab:T-FAIL:failed',
      type: 'payment.failed',
      amount: '5000',
      failure: { code: 'FAILED' },
    });
  });

  it('reads both date formats (documented YYYY-MM-DD and observed DD/MM/YYYY) as Vientiane time', async () => {
    // The message's own time is the event's on the trusted secret channel only.
    const { rec } = await connected({ confirmByStatusQuery: false });
    sim.createTransaction({ transactionId: 'T-YMD', amount: 1 });
    sim.createTransaction({ transactionId: 'T-DMY', amount: 1 });
    const at = new Date('2025-09-23T04:37:55Z');
    const ymd = sim.pay('T-YMD', { at, dateFormat: 'ymd' });
    const dmy = sim.pay('T-DMY', { at, dateFormat: 'dmy' });
    expect(ymd.txnDateTime).toBe('2025-09-23 11:37:55');
    // The observed BCEL payload (barlus-developer/phajay-payment-gateway,
    // payment_qr_webhook_test.go): "23/09/2025 11:37:55".
    expect(dmy.txnDateTime).toBe('23/09/2025 11:37:55');
    await rec.until((r) => r.events.length === 2, 'two events');
    for (const e of rec.events) expect(e.occurredAt).toBe('2025-09-23T11:37:55+07:00');
  });

  it('keeps refNo as text: exact for a bank number below 2^53, flagged when socket.io already lost digits', async () => {
    const { rec } = await connected();
    sim.createTransaction({ transactionId: 'T-REF1', amount: 1 });
    sim.createTransaction({ transactionId: 'T-REF2', amount: 1 });
    sim.pay('T-REF1', { refNo: 580960503 }); // refNo as a number, as in that observed payload
    sim.pay('T-REF2', { refNo: 2 ** 64 });
    await rec.until((r) => r.events.length === 2, 'two events');
    const byId = Object.fromEntries(rec.events.map((e) => [e.transactionId, e.details]));
    expect(byId['T-REF1']).toMatchObject({ refNo: '580960503' });
    expect(byId['T-REF1']).not.toHaveProperty('refNoExact');
    // No exponent notation is added; the flag says the digits may not be the gateway's.
    expect(byId['T-REF2']).toMatchObject({ refNo: '18446744073709551616', refNoExact: false });
  });

  it('processes a duplicate message once', async () => {
    const { rec, source } = await connected();
    sim.createTransaction({ transactionId: 'T-DUP', amount: 20000 });
    const message = sim.pay('T-DUP');
    await rec.until((r) => r.events.length === 1, 'first delivery');
    sim.emit(message);
    await rec.until((r) => r.duplicates.length === 1, 'duplicate notice');
    await settle();
    expect(rec.events).toHaveLength(1);
    expect(await source.watching()).toEqual([]);
  });

  it('a duplicate arriving while the first is still in flight is watched, then settled when the first completes', async () => {
    const { hub, rec, source } = await connected();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    hub.on('payment.completed', () => gate);
    sim.createTransaction({ transactionId: 'T-BUSY', amount: 20000 });
    const message = sim.pay('T-BUSY');
    await rec.until((r) => r.events.length === 1, 'first delivery in its listener');
    sim.emit(message);
    // The second copy finds the claim held: it is put on the watch list, not dropped.
    await new Promise<void>((resolve) => {
      const check = (): void =>
        void source
          .watching()
          .then((ids) => (ids.includes('T-BUSY') ? resolve() : void setTimeout(check, 5)));
      check();
    });
    release();
    await rec.until((r) => r.settled.length === 1, 'the awaited payment settled');
    // The first copy committed: the payment is done, nothing is left to ask about.
    expect(await source.watching()).toEqual([]);
    expect(rec.settled[0]).toMatchObject({ reference: 'T-BUSY', settledBy: 'socket' });
    expect(rec.events).toHaveLength(1);
    expect(rec.duplicates).toHaveLength(0);
  });

  it('refuses a malformed message on the error channel and emits nothing', async () => {
    const { rec, store } = await connected();
    sim.emit({ message: 'SUCCESS', status: 'PAYMENT_COMPLETED', transactionId: 'T-BAD' }); // no txnAmount
    sim.emit('not json at all');
    await rec.until((r) => r.errors.length === 2, 'two errors');
    expect(rec.errors.map((e) => e.code).sort()).toEqual([
      'ERR_PAYLOAD_INVALID',
      'ERR_PAYLOAD_MALFORMED',
    ]);
    expect(rec.events).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
  });
});

describe('socket source: connection', () => {
  it('reports a wrong secret on source.error, keeps retrying with backoff, throws nothing and receives nothing', async () => {
    const wrong = 'wrong$secret/value';
    const { rec, source } = start({ secretKey: wrong });
    await rec.until((r) => r.sourceErrors.length >= 2, 'two connection reports');
    expect(rec.up).toHaveLength(0);
    expect(sim.connectedClients()).toBe(0);
    const [report] = rec.sourceErrors;
    expect(report!.detail).toMatch(/refused the connection/);
    expect(report!.error).toBeInstanceOf(Error);
    for (const r of rec.sourceErrors) {
      expect(`${r.detail} ${r.error?.message}`).not.toContain(wrong);
      expect(`${r.detail} ${r.error?.message}`).not.toContain(encodeURIComponent(wrong));
    }
    expect(source.status().state).toBe('connecting');
    expect(source.status().reconnectAttempt).toBeGreaterThanOrEqual(2);
    sim.createTransaction({ transactionId: 'T-NOONE', amount: 1 });
    sim.pay('T-NOONE');
    await source.close();
    expect(rec.events).toHaveLength(0);
    expect(source.status().state).toBe('closed');
  });

  it('reports a refused connection (nothing listening) the same way', async () => {
    const { rec, source } = start();
    await rec.until((r) => r.up.length === 1, 'first connect');
    await sim.stopSocket();
    await rec.until(
      (r) => r.down.length === 1 && r.sourceErrors.length >= 1,
      'down, then a failed attempt',
    );
    expect(rec.sourceErrors[0]!.detail).toMatch(/could not connect/);
    expect(source.status()).toMatchObject({ connected: false, state: 'reconnecting' });
  });

  it('server restart mid-stream: a payment made while down is found by the status query after reconnect and emitted once', async () => {
    const { rec, source } = await connected();
    sim.createTransaction({ transactionId: 'T-BEFORE', amount: 1000 });
    sim.pay('T-BEFORE');
    await rec.until((r) => r.events.length === 1, 'first payment');

    // The merchant generated a QR and watches its transaction.
    sim.createTransaction({ transactionId: 'T-GAP', amount: 25000, orderNo: 'ORDER-7' });
    await source.watch('T-GAP');
    await sim.stopSocket();
    await rec.until((r) => r.down.length === 1, 'source.down');
    const lost = sim.pay('T-GAP'); // emitted to nobody: the channel has no replay
    expect(sim.connectedClients()).toBe(0);
    await sim.startSocket();

    await rec.until((r) => r.events.length === 2, 'the payment made while down');
    expect(rec.up).toHaveLength(2);
    expect(rec.up[1]!.detail).toMatch(/^reconnected to .* after \d+ failed attempt\(s\)$/);
    const found = rec.events[1]!;
    expect(found).toMatchObject({
      id: 'lailaolab:T-GAP:completed',
      type: 'payment.completed',
      transactionId: 'T-GAP',
      orderId: 'ORDER-7',
      amount: '25000',
      currency: 'LAK',
      verification: 'status-query',
    });
    expect(validatePaymentEvent(found)).toBe(true);
    await settle();
    expect(await source.watching()).not.toContain('T-GAP');

    // The message arriving late anyway is a duplicate, not a second payment.
    sim.emit(lost);
    await rec.until((r) => r.duplicates.length === 1, 'duplicate');
    expect(rec.events.filter((e) => e.transactionId === 'T-GAP')).toHaveLength(1);

    // The channel listener was registered once: a new payment after the reconnect is received once.
    sim.createTransaction({ transactionId: 'T-AFTER', amount: 3000 });
    sim.pay('T-AFTER');
    await rec.until((r) => r.events.length === 3, 'payment after reconnect');
    await settle();
    expect(rec.duplicates).toHaveLength(1);
  });

  it('with maxAttempts set, gives up, says so, and stops', async () => {
    const { rec, source } = await connected({
      reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 },
    });
    await sim.stopSocket();
    await rec.until((r) => r.sourceErrors.some((e) => /gave up/.test(e.detail ?? '')), 'giving up');
    expect(rec.sourceErrors.filter((e) => /could not connect/.test(e.detail ?? ''))).toHaveLength(
      2,
    );
    expect(source.status()).toMatchObject({ state: 'stopped', connected: false });
  });

  it('close() disconnects, stops every timer and reports source.down once', async () => {
    const { rec, source } = await connected();
    await source.watch('T-OPEN');
    await source.close();
    await source.close();
    expect(source.status()).toMatchObject({ state: 'closed', connected: false });
    expect(rec.down).toHaveLength(1);
    expect(rec.down[0]!.detail).toBe('closed by close()');
    await sim.waitForClients(0);
    sim.createTransaction({ transactionId: 'T-LATE', amount: 1 });
    sim.pay('T-LATE');
    expect(rec.events).toHaveLength(0);
    await expect(source.sweep()).resolves.toMatchObject({ checked: 0 });
  });
});

describe('socket source: no payment lost', () => {
  it('a listener failure puts the transaction on the watch list; the next sweep delivers it again', async () => {
    const { hub, rec, source } = await connected();
    let calls = 0;
    hub.on('payment.completed', () => {
      calls++;
      if (calls === 1) throw new Error('database down');
    });
    sim.createTransaction({ transactionId: 'T-RETRY', amount: 7000 });
    sim.pay('T-RETRY');
    await rec.until((r) => r.errors.length === 1, 'listener error');
    expect(rec.errors[0]!.code).toBe('ERR_LISTENER_FAILED');
    await settle();
    expect(await source.watching()).toEqual(['T-RETRY']);
    const report = await source.sweep();
    expect(report).toMatchObject({ checked: 1, emitted: 1, errors: 0 });
    expect(calls).toBe(2);
    expect(rec.events.at(-1)).toMatchObject({
      id: 'lailaolab:T-RETRY:completed',
      verification: 'status-query',
    });
    expect(await source.watching()).toEqual([]);
  });

  it("the hub's periodic sweep finds a payment the socket never announced", async () => {
    // The hub's timer (awaited.sweepEveryMs), the first check 20 ms after watch() (at most).
    const { hub, rec, source } = await connected(
      {},
      { awaited: { sweepEveryMs: 30, schedule: { lailaolab: { firstCheckMs: 20 } } } },
    );
    try {
      sim.createTransaction({ transactionId: 'T-SILENT', amount: 12345 });
      await source.watch('T-SILENT');
      sim.pay('T-SILENT', { emit: false });
      await rec.until((r) => r.events.length === 1, 'payment found by the sweep');
      expect(rec.events[0]).toMatchObject({ transactionId: 'T-SILENT', amount: '12345' });
      expect(sim.statusRequests.every((r) => r.authorized)).toBe(true);
    } finally {
      await hub.close();
    }
  });

  it('a sweep that cannot reach the status API reports it and keeps watching', async () => {
    const { rec, source } = await connected();
    sim.createTransaction({ transactionId: 'T-WAIT', amount: 900 });
    await source.watch('T-WAIT');
    sim.statusApiMode = 'down';
    expect(await source.sweep()).toMatchObject({ checked: 1, errors: 1, emitted: 0 });
    // Reported by hub.reconcile, which the hub's sweeper runs, on the hub's error channel.
    expect(rec.errors.at(-1)).toMatchObject({ code: 'ERR_GATEWAY_API' });
    expect(rec.errors.at(-1)!.message).toMatch(/HTTP 503/);
    expect(await source.watching()).toEqual(['T-WAIT']);
    sim.statusApiMode = 'up';
    expect(await source.sweep()).toMatchObject({ checked: 1, waiting: 1, emitted: 0 });
    sim.pay('T-WAIT', { emit: false });
    expect(await source.sweep()).toMatchObject({ checked: 1, emitted: 1 });
    expect(rec.events).toHaveLength(1);
  });

  it('a watch past its ttl gets one last status query, then is overdue (the awaited.overdue notice)', async () => {
    const { rec, source } = await connected();
    await source.watch('T-EXPIRES', { ttlMs: 1 });
    await source.watch('T-STAYS');
    await new Promise((r) => setTimeout(r, 20));
    const report = await source.sweep();
    // Neither is known to the gateway: both asked (waiting), the one past its until made overdue.
    expect(report).toMatchObject({ checked: 2, waiting: 2, overdue: 1, expired: 1 });
    expect(sim.statusRequests.map((r) => r.transactionId).sort()).toEqual(['T-EXPIRES', 'T-STAYS']);
    expect(rec.overdue).toEqual([
      expect.objectContaining({ reference: 'T-EXPIRES', state: 'overdue' }),
    ]);
    expect(await source.watching()).toEqual(['T-STAYS']);
  });
});

describe('socket source: confirmByStatusQuery', () => {
  it('confirms a completed message through the status API before emitting it', async () => {
    const { rec } = await connected({ confirmByStatusQuery: true });
    sim.createTransaction({ transactionId: 'T-OK', amount: 100000 });
    sim.pay('T-OK');
    await rec.until((r) => r.events.length === 1, 'confirmed event');
    expect(rec.events[0]).toMatchObject({
      verification: 'status-query',
      details: {
        channel: 'socket',
        statusQuery: { status: 'PAYMENT_COMPLETED', isPaid: true, amount: '100000' },
      },
    });
    expect(sim.statusRequests).toEqual([{ transactionId: 'T-OK', authorized: true }]);
  });

  it('a confirmation that cannot reach the status API is reported and the payment is recovered by a sweep', async () => {
    const { rec, source } = await connected({ confirmByStatusQuery: true });
    sim.createTransaction({ transactionId: 'T-OUTAGE', amount: 8000 });
    sim.statusApiMode = 'down';
    sim.pay('T-OUTAGE');
    await rec.until((r) => r.errors.length === 1, 'gateway error');
    expect(rec.errors[0]!.code).toBe('ERR_GATEWAY_API');
    await settle();
    expect(rec.events).toHaveLength(0);
    expect(await source.watching()).toEqual(['T-OUTAGE']);
    sim.statusApiMode = 'up';
    expect(await source.sweep()).toMatchObject({ emitted: 1 });
    expect(rec.events[0]).toMatchObject({
      transactionId: 'T-OUTAGE',
      verification: 'status-query',
    });
  });

  it('an amount or status mismatch is a StatusMismatchError on the error channel, not a payment', async () => {
    const { rec, store } = await connected({ confirmByStatusQuery: true });
    sim.createTransaction({ transactionId: 'T-AMT', amount: 100000 });
    sim.pay('T-AMT', { emit: false });
    sim.emit(buildLailaolabMessage({ transactionId: 'T-AMT', amount: 999999 }));
    sim.createTransaction({ transactionId: 'T-UNPAID', amount: 5000 });
    sim.emit(buildLailaolabMessage({ transactionId: 'T-UNPAID', amount: 5000 }));
    sim.emit(buildLailaolabMessage({ transactionId: 'T-UNKNOWN', amount: 5000 }));
    await rec.until((r) => r.errors.length === 3, 'three answers');
    const codes = rec.errors.map((e) => e.code).sort();
    // A contradicted amount is a mismatch; a record that waits or is not there yet is "not yet".
    expect(codes).toEqual(['ERR_GATEWAY_API', 'ERR_GATEWAY_API', 'ERR_STATUS_MISMATCH']);
    const text = rec.errors.map((e) => e.message).join('\n');
    expect(text).toMatch(/T-AMT carries 999999 in the message but 100000 at the status API/);
    expect(text).toMatch(/T-UNPAID is WAITING at the status API, not paid yet/);
    expect(text).toMatch(/T-UNKNOWN is unknown at the status API, not paid yet/);
    expect(text).not.toContain(SECRET);
    expect(rec.events).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
  });
});
