import type { ServerResponse } from 'node:http';
import {
  ConfigError,
  isPaymentError,
  RECEIVE_OUTCOMES,
  type AwaitedState,
  type InboxEntry,
  type InboxFilter,
  type ReceiveOutcome,
  type SweepReport,
} from '@payhook/core';
import type { InspectorUser } from './auth';
import type { CsrfTokens } from './csrf';
import type { InspectorRequest } from './http';
import { sendHtml } from './http';
import type { InspectorSettings } from './options';
import type { PageName, Renderer } from './render';
import { toSegment } from './segment';
import { formatTime, reportItems, toAwaitedRow, toDetail, toRow } from './views';

/** Everything a page handler needs: one per request. */
export interface PageContext {
  settings: InspectorSettings;
  renderer: Renderer;
  csrf: CsrfTokens;
  req: InspectorRequest;
  res: ServerResponse;
  user: InspectorUser;
  /** Where the inspector is mounted (`/payhook`), for links. */
  base: string;
  query: URLSearchParams;
  /** A POST's form fields, once its CSRF token was accepted. */
  form?: Record<string, string>;
}

export function canWrite(ctx: PageContext): boolean {
  return ctx.user.write && !ctx.settings.readOnly;
}

export function render(
  ctx: PageContext,
  name: PageName,
  status: number,
  data: Record<string, unknown>,
): void {
  const common = {
    base: ctx.base,
    user: ctx.user,
    readOnly: ctx.settings.readOnly,
    hasDeadLetters: ctx.settings.deadLetters !== undefined,
    csrf: canWrite(ctx) ? ctx.csrf.issue(ctx.user.name) : undefined,
  };
  sendHtml(ctx.res, status, ctx.renderer.page(name, { ...common, ...data }));
}

/** `back`: a link to the page the user came from (e.g. to reload a form), besides the list. */
export function renderError(
  ctx: PageContext,
  status: number,
  message: string,
  back?: string,
): void {
  render(ctx, 'error', status, { title: String(status), status, message, back });
}

/** `datetime-local` values are read as UTC, as the page labels them. */
function parseUtc(value: string | null): Date | undefined {
  if (!value) return undefined;
  const at = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export function filterOf(query: URLSearchParams): InboxFilter {
  const filter: InboxFilter = {};
  const gateway = query.get('gateway');
  if (gateway) filter.provider = gateway;
  const outcome = query.get('outcome');
  if (outcome && (RECEIVE_OUTCOMES as readonly string[]).includes(outcome))
    filter.outcome = outcome as ReceiveOutcome;
  const from = parseUtc(query.get('from'));
  if (from) filter.from = from;
  const to = parseUtc(query.get('to'));
  if (to) filter.to = to;
  const orderId = query.get('order')?.trim();
  if (orderId) filter.orderId = orderId;
  const transactionId = query.get('transaction')?.trim();
  if (transactionId) filter.transactionId = transactionId;
  return filter;
}

export async function listPage(ctx: PageContext): Promise<void> {
  const { query } = ctx;
  const cursor = query.get('cursor') ?? undefined;
  let list: Awaited<ReturnType<typeof ctx.settings.inbox.list>>;
  try {
    list = await ctx.settings.inbox.list(filterOf(query), { limit: ctx.settings.pageSize, cursor });
  } catch (error) {
    // A cursor is opaque to the user: a hand-edited or stale one is a bad link, not a crash.
    if (error instanceof ConfigError && error.option === 'cursor')
      return renderError(
        ctx,
        400,
        'That page link is not valid any more: start from the first page.',
      );
    throw error;
  }
  const link = (next: string | undefined): string => {
    const q = new URLSearchParams(query);
    q.delete('cursor');
    if (next) q.set('cursor', next);
    const text = q.toString();
    return `${ctx.base}/${text ? `?${text}` : ''}`;
  };
  const gateway = query.get('gateway') ?? '';
  const ids = new Set(ctx.settings.providers().map((p) => p.id));
  if (gateway) ids.add(gateway);
  const outcome = query.get('outcome') ?? '';
  render(ctx, 'list', 200, {
    title: 'Deliveries',
    rows: list.entries.map(toRow),
    gateways: [...ids].sort().map((value) => ({ value, selected: value === gateway })),
    outcomes: RECEIVE_OUTCOMES.map((value) => ({ value, selected: value === outcome })),
    filter: Object.fromEntries(
      ['from', 'to', 'order', 'transaction'].map((k) => [k, query.get(k) ?? '']),
    ),
    older: list.nextCursor ? link(list.nextCursor) : undefined,
    newer: cursor ? link(undefined) : undefined,
  });
}

/** Every kept delivery of the same event, and the replays of this one, oldest first. */
async function attemptsOf(ctx: PageContext, entry: InboxEntry): Promise<InboxEntry[]> {
  const inbox = ctx.settings.inbox;
  const seen = new Map<string, InboxEntry>([[entry.id, entry]]);
  const eventId = entry.events[0]?.id;
  const lists = await Promise.all([
    eventId ? inbox.list({ eventId }, { limit: 100 }) : undefined,
    inbox.list({ replayOf: entry.id }, { limit: 100 }),
  ]);
  for (const list of lists) for (const e of list?.entries ?? []) seen.set(e.id, e);
  return [...seen.values()].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

/**
 * Whether the entry was received longer ago than its provider's maxAgeMs: the hub then refuses to
 * replay it unless told to, so the page asks the user to confirm (the store may have forgotten the
 * event, and processing it again would be a second credit).
 */
function pastMaxAge(ctx: PageContext, entry: InboxEntry): number | undefined {
  const provider = ctx.settings.providers().find((p) => p.id === entry.provider);
  const maxAgeMs = provider?.maxAgeMs;
  if (maxAgeMs === undefined) return undefined;
  return entry.receivedAt.getTime() < Date.now() - maxAgeMs ? maxAgeMs : undefined;
}

export async function deliveryPage(
  ctx: PageContext,
  id: string,
  shown: { replayed?: Record<string, unknown>; status?: number; mustConfirm?: boolean } = {},
): Promise<void> {
  const entry = await ctx.settings.inbox.get(id);
  if (!entry) return renderError(ctx, 404, `No delivery ${id} is kept in the inbox.`);
  const attempts = await attemptsOf(ctx, entry);
  const maxAgeMs = pastMaxAge(ctx, entry);
  render(ctx, 'delivery', shown.status ?? 200, {
    title: `Delivery ${entry.id}`,
    d: toDetail(entry, attempts.length > 1 ? attempts : [], ctx.settings.redactHeaders),
    canReplay: canWrite(ctx),
    pastMaxAge: maxAgeMs === undefined ? undefined : { hours: +(maxAgeMs / 3_600_000).toFixed(2) },
    mustConfirm: shown.mustConfirm,
    replayed: shown.replayed,
  });
}

export async function replayAction(ctx: PageContext, id: string): Promise<void> {
  const entry = await ctx.settings.inbox.get(id);
  if (!entry) return renderError(ctx, 404, `No delivery ${id} is kept in the inbox.`);
  const provider = ctx.settings.providers().find((p) => p.id === entry.provider);
  if (!provider)
    return renderError(
      ctx,
      409,
      `No ${entry.provider} provider is given to the inspector (option providers): nothing to replay it through.`,
    );
  // Past the window, only the user's explicit confirmation (a checkbox of the CSRF-checked form)
  // lets the hub process it: the merchant's back-office decision, logged with the user's name.
  const old = pastMaxAge(ctx, entry) !== undefined;
  const confirmed = old && ctx.form?.allowOlderThanMaxAge === 'yes';
  if (old && !confirmed) return deliveryPage(ctx, id, { status: 409, mustConfirm: true });
  try {
    const result = await ctx.settings.hub.replay(provider, id, { allowOlderThanMaxAge: confirmed });
    ctx.settings.hub.logger.info(
      { user: ctx.user.name, inboxId: id, outcome: result.outcome, olderThanMaxAge: confirmed },
      '@payhook/inspector: delivery replayed',
    );
    return deliveryPage(ctx, id, {
      replayed: {
        outcome: result.outcome,
        replyStatus: result.reply.status,
        code: result.error?.code,
        message: result.error?.message,
        id: result.inboxId,
        ref: result.inboxId && toSegment(result.inboxId),
      },
    });
  } catch (error) {
    if (isPaymentError(error)) return renderError(ctx, error.statusCode, error.message);
    throw error;
  }
}

export async function deadLettersPage(ctx: PageContext, message?: string): Promise<void> {
  const source = ctx.settings.deadLetters;
  if (!source) return renderError(ctx, 404, 'No dead-letter source is configured.');
  const letters = await source.list();
  render(ctx, 'dead-letters', 200, {
    title: 'Dead letters',
    canWrite: canWrite(ctx),
    message,
    letters: letters.map((l) => ({
      id: l.id,
      ref: toSegment(l.id),
      time: formatTime(l.failedAt),
      gateway: l.provider,
      eventId: l.eventId,
      attempts: l.attempts,
      error: l.error ? `${l.error.code ? `${l.error.code}: ` : ''}${l.error.message}` : '',
    })),
  });
}

export async function retryAction(ctx: PageContext, id: string | undefined): Promise<void> {
  const source = ctx.settings.deadLetters;
  if (!source) return renderError(ctx, 404, 'No dead-letter source is configured.');
  if (id === undefined) {
    const count = await source.retryAll();
    return deadLettersPage(ctx, `Retried ${typeof count === 'number' ? count : 'all'}.`);
  }
  await source.retry(id);
  return deadLettersPage(ctx, `Retried ${id}.`);
}

/** The awaited page's tabs, in the order a payment goes through them. */
export const AWAITED_TABS: readonly AwaitedState[] = ['awaiting', 'overdue', 'settled'];

/**
 * The payments the hub awaits (`hub.awaited`), most recently created first, by state and gateway.
 * The list has no cursor: the page shows the newest `pageSize` of the tab. `report`: the sweep just
 * run from this page.
 */
export async function awaitedPage(ctx: PageContext, report?: SweepReport): Promise<void> {
  const { query } = ctx;
  const asked = query.get('state') ?? '';
  const state = (AWAITED_TABS as readonly string[]).includes(asked)
    ? (asked as AwaitedState)
    : undefined;
  const gateway = query.get('gateway') ?? '';
  const awaited = ctx.settings.hub.awaited;
  const now = Date.now();
  const limit = ctx.settings.pageSize;
  const [payments, counts] = await Promise.all([
    awaited.list({ state, provider: gateway || undefined, limit }),
    awaited.counts(now),
  ]);
  const link = (path: string, tab: string | undefined): string => {
    const q = new URLSearchParams();
    if (tab) q.set('state', tab);
    if (gateway) q.set('gateway', gateway);
    const text = q.toString();
    return `${ctx.base}${path}${text ? `?${text}` : ''}`;
  };
  const ids = new Set(ctx.settings.providers().map((p) => p.id));
  if (gateway) ids.add(gateway);
  render(ctx, 'awaited', 200, {
    title: 'Awaited payments',
    canSweep: canWrite(ctx),
    sweepAction: link('/awaited/sweep', state),
    tabs: [undefined, ...AWAITED_TABS].map((tab) => ({
      label: tab ?? 'all',
      href: link('/awaited', tab),
      current: tab === state,
    })),
    state: state ?? '',
    gateways: [...ids].sort().map((value) => ({ value, selected: value === gateway })),
    counts,
    rows: payments.map((p) => toAwaitedRow(p, now)),
    truncated: payments.length >= limit ? limit : undefined,
    report: report && reportItems(report),
  });
}

/** `hub.sweep()` now (what the timer does every sweepEveryMs), then the page with its report. */
export async function sweepAction(ctx: PageContext): Promise<void> {
  const report = await ctx.settings.hub.sweep();
  ctx.settings.hub.logger.info(
    { user: ctx.user.name, ...report },
    '@payhook/inspector: awaited payments swept',
  );
  return awaitedPage(ctx, report);
}

/**
 * The delivery that carried an event (an awaited payment's `eventId`): the first that processed
 * it, else the latest kept; 404 when the inbox keeps none (not recorded, or purged since).
 */
export async function eventPage(ctx: PageContext, eventId: string): Promise<void> {
  const { entries } = await ctx.settings.inbox.list({ eventId }, { limit: 100 });
  // Newest first: the last processed one is the first to have processed it.
  const entry = entries.filter((e) => e.outcome === 'processed').at(-1) ?? entries[0];
  if (!entry) return renderError(ctx, 404, `No delivery of event ${eventId} is kept in the inbox.`);
  return deliveryPage(ctx, entry.id);
}
