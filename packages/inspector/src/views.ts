import type { InboxEntry } from '@payhook/core';
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
