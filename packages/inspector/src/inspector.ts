import type { ServerResponse } from 'node:http';
import { authenticate } from './auth';
import { createCsrfTokens } from './csrf';
import { readForm, sendHtml, type InspectorRequest } from './http';
import { resolveInspectorOptions, type InspectorOptions } from './options';
import {
  awaitedPage,
  canWrite,
  deadLettersPage,
  deliveryPage,
  eventPage,
  listPage,
  renderError,
  replayAction,
  retryAction,
  sweepAction,
  type PageContext,
} from './pages';
import { createRenderer } from './render';
import { fromSegment } from './segment';

export type Inspector = (
  req: InspectorRequest,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

// One path segment as sent, still %-encoded: ids are decoded after routing, so an id holding a
// slash, a space, '#', '%' or any unicode (a dead letter's id is the queue's) is one segment.
const ID = '([^/]{1,1200})';
type Handler = (ctx: PageContext, param: string) => Promise<void>;
const ROUTES: Array<[method: 'GET' | 'POST', pattern: RegExp, handler: Handler]> = [
  ['GET', /^\/?$/, (ctx) => listPage(ctx)],
  ['GET', new RegExp(`^/deliveries/${ID}$`), (ctx, id) => deliveryPage(ctx, id)],
  ['POST', new RegExp(`^/deliveries/${ID}/replay$`), (ctx, id) => replayAction(ctx, id)],
  ['GET', /^\/dead-letters$/, (ctx) => deadLettersPage(ctx)],
  ['POST', /^\/dead-letters\/retry-all$/, (ctx) => retryAction(ctx, undefined)],
  ['POST', new RegExp(`^/dead-letters/${ID}/retry$`), (ctx, id) => retryAction(ctx, id)],
  ['GET', new RegExp(`^/events/${ID}$`), (ctx, id) => eventPage(ctx, id)],
  ['GET', /^\/awaited$/, (ctx) => awaitedPage(ctx)],
  ['POST', /^\/awaited\/sweep$/, (ctx) => sweepAction(ctx)],
];

const SIGN_IN = '<!doctype html><title>401</title><p>Sign in to see the payhook inspector.</p>';
const FAILED = '<!doctype html><title>500</title><p>The inspector failed; see the log.</p>';
const STALE_FORM =
  'The form is stale or was not sent by this page (CSRF token missing or wrong). Reload and try again.';

/** Where a refused form sends the user back to: the page the form was on. */
function pageOf(ctx: PageContext, path: string): string {
  const back = path.replace(/\/(replay|retry|retry-all|sweep)$/, '');
  if (back === '/awaited') return `${ctx.base}/awaited`;
  return `${ctx.base}${back.startsWith('/deliveries/') ? back : '/dead-letters'}`;
}

/**
 * A POST changes something: it needs a writable inspector, a writing user and the page's token,
 * not expired. Returns the form when all hold.
 */
async function acceptPost(
  ctx: PageContext,
  path: string,
): Promise<Record<string, string> | undefined> {
  if (ctx.settings.readOnly) return void renderError(ctx, 403, 'The inspector is read-only.');
  if (!canWrite(ctx))
    return void renderError(ctx, 403, `${ctx.user.name} may not replay, retry or sweep.`);
  const form = await readForm(ctx.req);
  const verdict = ctx.csrf.check(ctx.user.name, form.csrf);
  if (verdict === 'ok') return form;
  const minutes = Math.round(ctx.csrf.ttlMs / 60_000);
  const message =
    verdict === 'expired'
      ? `The page has expired: its forms are valid for ${minutes || '<1'} minute(s) after it was loaded. Nothing was done. Open the page again and resubmit.`
      : STALE_FORM;
  renderError(ctx, 403, message, pageOf(ctx, path));
  return undefined;
}

/**
 * The inspector: a middleware (Express or plain node:http) that serves the deliveries page where it
 * is mounted, `app.use('/payhook', createInspector({ hub, auth }))`. Every request is authenticated
 * first; every POST also needs write permission, a writable inspector and the page's CSRF token.
 */
export function createInspector(options: InspectorOptions): Inspector {
  const settings = resolveInspectorOptions(options);
  const renderer = createRenderer();
  const csrf = createCsrfTokens(settings.csrfSecret, { ttlMs: settings.csrfTtlMs });

  const handle = async (req: InspectorRequest, res: ServerResponse): Promise<void> => {
    const decision = await authenticate(settings.auth, req);
    if ('refused' in decision) {
      const challenge: Record<string, string> =
        'basic' in settings.auth
          ? { 'www-authenticate': 'Basic realm="payhook inspector", charset="UTF-8"' }
          : {};
      return sendHtml(res, 401, SIGN_IN, challenge);
    }
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    const ctx: PageContext = {
      ...{ settings, renderer, csrf, req, res },
      user: decision.user,
      base: req.baseUrl ?? '',
      query: url.searchParams,
    };
    const path = url.pathname;
    const route = ROUTES.find(([method, pattern]) => method === req.method && pattern.test(path));
    const param = route && fromSegment(route[1].exec(path)![1] ?? '');
    if (!route || param === undefined) {
      const known = ROUTES.some(([, pattern]) => pattern.test(path));
      return renderError(ctx, known && route === undefined ? 405 : 404, 'No such page.');
    }
    if (route[0] === 'POST') {
      const form = await acceptPost(ctx, path);
      if (!form) return;
      ctx.form = form;
    }
    return route[2](ctx, param);
  };

  return (req, res, next) => {
    handle(req, res).catch((error: unknown) => {
      settings.hub.logger.error({ err: error }, '@payhook/inspector: a page failed');
      if (next) return next(error);
      if (!res.headersSent) sendHtml(res, 500, FAILED);
    });
  };
}
