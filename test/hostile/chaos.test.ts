/**
 * Chaos: 10,000 payments over the four HTTP gateways, each through its real middleware on its own
 * server. One listener call in ten fails (decided by a hash of the event id and the attempt, so the
 * run is reproducible, not luck); the sender redelivers on the gateway's retry answer within the
 * gateway's own attempt budget (NewPay 1+3, Cashy 1+10; signed-param and Lailaolab publish none,
 * 1+3 assumed), with the delays scaled from minutes to milliseconds. One acknowledged payment in
 * ten is delivered once more, as a gateway that missed the ack would. A payment whose every attempt
 * failed (about 1 in 10,000 with a 1+3 budget) is what the gateway then stops sending: the operator
 * replays it from the merchant's list of unpaid orders (the same delivery bytes sent again), and
 * the count is printed. Every payment must end dispatched successfully exactly once: none lost.
 */
import { createHash } from 'node:crypto';
import type { LailaolabSimulator } from '@payhook/testing';
import {
  agent,
  post,
  sleep,
  startGateway,
  startSimulator,
  type Gateway,
  type GatewayName,
  type Wire,
} from './support';
import { reportCounts } from '@payhook/core/testing';

// RSA signing (about 1 ms a delivery here) and Lailaolab's status query per webhook dominate, so Cashy
// (MD5) carries more of the 10,000.
const PAYMENTS: Record<string, number> = {
  'signed-param': 1_500,
  newpay: 1_500,
  cashy: 5_500,
  lailaolab: 1_500,
};
const IN_FLIGHT = 64;
const ATTEMPTS: Record<string, number> = { 'signed-param': 4, newpay: 4, cashy: 11, lailaolab: 4 };
const NAMES: GatewayName[] = ['signed-param', 'newpay', 'cashy', 'lailaolab'];

/** Deterministic 10%: the same event and attempt always fail or always succeed. */
const fails = (eventId: string, attempt: number): boolean =>
  createHash('sha256').update(`${eventId}#${attempt}`).digest()[0]! < 25.6;

let sim: LailaolabSimulator;
const gateways: Gateway[] = [];
beforeAll(async () => {
  sim = await startSimulator();
  for (const name of NAMES) gateways.push(await startGateway(name, { simulator: sim }));
});
afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await sim.close();
  agent.destroy();
});

it('10,000 payments, 10% of listener calls failing, retried like the gateways: each dispatched successfully exactly once', async () => {
  const calls = new Map<string, number>();
  const successes = new Map<string, number>();
  let failedCalls = 0;
  for (const gw of gateways) {
    gw.hub.onAny(async (event) => {
      const attempt = (calls.get(event.id) ?? 0) + 1;
      calls.set(event.id, attempt);
      await sleep(0);
      if (fails(event.id, attempt)) {
        failedCalls++;
        throw new Error('chaos: the merchant database is unavailable');
      }
      successes.set(event.id, (successes.get(event.id) ?? 0) + 1);
    });
  }
  const signStarted = Date.now();
  const jobs: Array<{ gw: Gateway; wire: Wire }> = [];
  for (let n = 0; n < 5_500; n++)
    for (const gw of gateways) if (n < PAYMENTS[gw.name]!) jobs.push({ gw, wire: gw.genuine(n) });
  const signMs = Date.now() - signStarted;

  const unacknowledged: Array<{ gw: Gateway; wire: Wire }> = [];
  const stats = {
    deliveries: 0,
    retryAnswers: 0,
    okAnswers: 0,
    redeliveredAfterAck: 0,
    gaveUp: 0,
    other: 0,
  };
  const deliver = async (gw: Gateway, wire: Wire): Promise<boolean> => {
    for (let attempt = 1; attempt <= ATTEMPTS[gw.name]!; attempt++) {
      stats.deliveries++;
      const reply = await post(gw.url, wire);
      if (reply.status === gw.ok.status && reply.body === gw.ok.body) {
        stats.okAnswers++;
        return true;
      }
      if (reply.status === gw.retry.status && reply.body === gw.retry.body) stats.retryAnswers++;
      else stats.other++;
      await sleep(attempt);
    }
    stats.gaveUp++;
    unacknowledged.push({ gw, wire });
    return false;
  };
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < jobs.length) {
        const index = next++;
        const { gw, wire } = jobs[index]!;
        if ((await deliver(gw, wire)) && index % 10 === 3) {
          stats.redeliveredAfterAck++;
          await deliver(gw, wire);
        }
      }
    }),
  );
  // The gateway gave up on these: the operator's replay of the same delivery, until acknowledged.
  const gaveUp = [...unacknowledged];
  let replayed = 0;
  for (const { gw, wire } of gaveUp) {
    for (let i = 0; ; i++) {
      expect(i).toBeLessThan(10);
      replayed++;
      const reply = await post(gw.url, wire);
      if (reply.status === gw.ok.status && reply.body === gw.ok.body) break;
    }
  }
  const runMs = Date.now() - started;

  const ids = gateways.flatMap((gw) => [...new Set(gw.rec.events.map((e) => e.id))]);
  const perGateway = Object.fromEntries(
    gateways.map((gw) => [gw.name, new Set(gw.rec.events.map((e) => e.id)).size]),
  );
  const duplicates = gateways.reduce((sum, gw) => sum + gw.rec.duplicates.length, 0);
  const onceExactly = ids.filter((id) => successes.get(id) === 1).length;
  reportCounts(
    JSON.stringify(
      {
        payments: jobs.length,
        perGateway,
        ...stats,
        gaveUpByGateway: Object.fromEntries(
          NAMES.map((n) => [n, gaveUp.filter((g) => g.gw.name === n).length]),
        ),
        operatorReplays: replayed,
        listenerCalls: [...calls.values()].reduce((a, b) => a + b, 0),
        failedListenerCalls: failedCalls,
        dispatchedSuccessfullyExactlyOnce: onceExactly,
        duplicatesAcknowledged: duplicates,
        presignMs: signMs,
        runMs,
      },
      null,
      1,
    ),
  );
  // A gateway giving up is rare (1+3 attempts at 10% failure: 1 in 10,000 payments).
  expect(stats.gaveUp).toBeLessThan(10);
  expect(stats.other).toBe(0);
  expect(ids).toHaveLength(jobs.length);
  expect(onceExactly).toBe(jobs.length);
  expect([...successes.values()].every((n) => n === 1)).toBe(true);
  // Roughly one listener call in ten failed, and each failure was answered with the retry body.
  expect(failedCalls).toBeGreaterThan(jobs.length * 0.08);
  expect(stats.retryAnswers + replayed - gaveUp.length).toBe(failedCalls);
  expect(duplicates).toBe(stats.redeliveredAfterAck);
}, 120_000);
