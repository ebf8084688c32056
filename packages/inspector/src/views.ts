import type { AwaitedPayment, InboxEntry, SettledBy, SweepReport } from '@payhook/core';
import { prettyJson } from './pretty-json';
import { toSegment } from './segment';

/** What the templates show of an entry: plain strings, escaped by handlebars when rendered. */
export interface EntryRow {
  id: string;
  /** The id as one URL path segment (%-encoded), for links. */
  ref: string;
  time: string;
  gateway: string;
  outcome: string;
  code?: string;
  replyStatus: number;
  orderId: string;
  transactionId: string;
  amount: string;
  /**
   * What an operator must not miss next to the amount: `test` for sandbox money (event.mode), and
   * a reversal's kind (`void`, `chargeback`), which is a payment.refunded like a refund.
   */
  flags: string;
}

const distinct = (values: Array<string | null>): string =>
  [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0))].join(', ');

/** Seconds precision, UTC, explicit: 2026-12-01 21:30:55Z. */
export const formatTime = (at: Date): string =>
  at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

export function toRow(entry: InboxEntry): EntryRow {
  return {
    id: entry.id,
    ref: toSegment(entry.id),
    time: formatTime(entry.receivedAt),
    gateway: entry.provider,
    outcome: entry.outcome,
    code: entry.error?.code,
    replyStatus: entry.reply.status,
    orderId: distinct(entry.events.map((e) => e.orderId)),
    transactionId: distinct(entry.events.map((e) => e.transactionId)),
    amount: distinct(
      entry.events.map((e) => (e.currency ? `${e.amount} ${e.currency}` : e.amount)),
    ),
    flags: distinct(
      entry.events.flatMap((e) => [
        e.mode === 'test' ? 'test' : null,
        e.refundKind === 'void' || e.refundKind === 'chargeback' ? e.refundKind : null,
      ]),
    ),
  };
}

/** The raw body as text (bytes that are not UTF-8 show as U+FFFD), or the transport's message. */
function rawText(entry: InboxEntry): string {
  if (entry.body.length > 0) return entry.body.toString('utf8');
  return entry.message === undefined ? '' : JSON.stringify(entry.message, null, 2);
}

/**
 * JSON indented (its own text, token by token: `100.10` stays `100.10`), a form body one field a
 * line; undefined when it is neither.
 */
export function prettyBody(entry: InboxEntry): string | undefined {
  const text = entry.body.toString('utf8');
  if (text.length === 0) return undefined;
  const json = prettyJson(text);
  if (json !== undefined) return json;
  const type = String(entry.headers['content-type'] ?? '');
  if (!type.includes('application/x-www-form-urlencoded')) return undefined;
  return [...new URLSearchParams(text)].map(([k, v]) => `${k} = ${v}`).join('\n');
}

export function headerRows(
  entry: InboxEntry,
  redact: ReadonlySet<string>,
): Array<{ name: string; value: string }> {
  return Object.keys(entry.headers)
    .sort()
    .map((name) => {
      const value = entry.headers[name]!;
      const text = typeof value === 'string' ? value : value.join(', ');
      return { name, value: redact.has(name) ? '[redacted]' : text };
    });
}

function replyText(entry: InboxEntry): string {
  const headers = Object.entries(entry.reply.headers).map(([k, v]) => `${k}: ${v}`);
  return [`HTTP ${entry.reply.status}`, ...headers, '', entry.reply.body].join('\n');
}

export function toDetail(
  entry: InboxEntry,
  attempts: InboxEntry[],
  redact: ReadonlySet<string>,
): Record<string, unknown> {
  return {
    ...toRow(entry),
    transport: entry.transport,
    replayOf: entry.replayOf,
    replayOfRef: entry.replayOf && toSegment(entry.replayOf),
    bodyBytes: entry.body.length,
    rawBody: rawText(entry),
    prettyBody: prettyBody(entry),
    headers: headerRows(entry, redact),
    events: entry.events.length > 0 ? JSON.stringify(entry.events, null, 2) : undefined,
    reply: replyText(entry),
    errors: entry.error ? [entry.error] : [],
    durationMs: entry.durationMs,
    attempts: attempts.map((a) => ({
      ref: a.id === entry.id ? undefined : toSegment(a.id),
      time: formatTime(a.receivedAt),
      transport: a.transport,
      outcome: a.outcome,
      replyStatus: a.reply.status,
    })),
  };
}

/** What the awaited-payments page shows of a payment: plain strings, escaped when rendered. */
export interface AwaitedRow {
  key: string;
  provider: string;
  orderId: string;
  reference: string;
  state: string;
  /** Still awaiting, but its `until` has passed: the next sweep makes it overdue. */
  pastUntil: boolean;
  until: string;
  checks: number;
  lastResult: string;
  settledBy: string;
  settledAt: string;
  eventId: string;
  /** The event id as one URL path segment, for the link to its delivery. */
  eventRef?: string;
}

/** ISO 8601, UTC, seconds, explicit: 2026-12-01T21:30:55Z; empty when there is no such time. */
export function formatIso(ms: number | null): string {
  const at = new Date(ms ?? Number.NaN);
  return Number.isNaN(at.getTime()) ? '' : at.toISOString().replace(/\.\d+Z$/, 'Z');
}

const SETTLED_BY_TEXT: Record<SettledBy, string> = {
  webhook: 'webhook',
  socket: 'socket',
  'status-query': 'status query',
  replay: 'replay',
};

export function toAwaitedRow(payment: AwaitedPayment, now: number): AwaitedRow {
  return {
    key: payment.key,
    provider: payment.provider,
    orderId: payment.orderId ?? '',
    reference: payment.reference ?? '',
    state: payment.state,
    pastUntil: payment.state === 'awaiting' && payment.until <= now,
    until: formatIso(payment.until),
    checks: payment.checks,
    lastResult: payment.lastResult ?? '',
    settledBy: payment.settledBy ? (SETTLED_BY_TEXT[payment.settledBy] ?? payment.settledBy) : '',
    settledAt: formatIso(payment.settledAt),
    eventId: payment.eventId ?? '',
    eventRef: payment.eventId ? toSegment(payment.eventId) : undefined,
  };
}

/** A sweep's report, one labelled number each, in the order a reader follows a sweep. */
const REPORT_TEXT: ReadonlyArray<[keyof SweepReport, string]> = [
  ['leased', 'looked at'],
  ['checked', 'asked'],
  ['recovered', 'recovered'],
  ['alreadySettled', 'already settled'],
  ['waiting', 'still waiting'],
  ['deferred', 'deferred'],
  ['overdue', 'made overdue'],
  ['errors', 'errors'],
];

export const reportItems = (
  report: SweepReport,
): Array<{ field: string; label: string; count: number }> =>
  REPORT_TEXT.map(([field, label]) => ({ field, label, count: report[field] }));
