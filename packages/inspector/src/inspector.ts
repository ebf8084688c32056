import type { ServerResponse } from 'node:http';
import { authenticate } from './auth';
import { createCsrfTokens } from './csrf';
import { readForm, sendHtml, type InspectorRequest } from './http';
import { resolveInspectorOptions, type InspectorOptions } from './options';
import {
  canWrite,
  deadLettersPage,
  deliveryPage,
  listPage,
  renderError,
  replayAction,
  retryAction,
  type PageContext,
} from './pages';
import { createRenderer } from './render';

export type Inspector = (
  req: InspectorRequest,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

const ID = '([A-Za-z0-9._:-]{1,200})';
type Handler = (ctx: PageContext, param: string) => Promise<void>;
const ROUTES: Array<[method: 'GET' | 'POST', pattern: RegExp, handler: Handler]> = [
  ['GET', /^\/?$/, (ctx) => listPage(ctx)],
  ['GET', new RegExp(`^/deliveries/${ID}$`), (ctx, id) => deliveryPage(ctx, id)],
  ['POST', new RegExp(`^/deliveries/${ID}/replay$`), (ctx, id) => replayAction(ctx, id)],
  ['GET', /^\/dead-letters$/, (ctx) => deadLettersPage(ctx)],
  ['POST', /^\/dead-letters\/retry-all$/, (ctx) => retryAction(ctx, undefined)],
  ['POST', new RegExp(`^/dead-letters/${ID}/retry$`), (ctx, id) => retryAction(ctx, id)],
];

const SIGN_IN = '<!doctype html><title>401</title><p>Sign in to see the payhook inspector.</p>';
const FAILED = '<!doctype html><title>500</title><p>The inspector failed; see the log.</p>';
const STALE_FORM =
  'The form is stale or was not sent by this page (CSRF token missing or wrong). Reload and try again.';

/** A POST changes something: it needs a writable inspector, a writing user and the page's token. */
async function refusePost(ctx: PageContext): Promise<boolean> {
  if (ctx.settings.readOnly) return (renderError(ctx, 403, 'The inspector is read-only.'), true);
  if (!canWrite(ctx))
    return (renderError(ctx, 403, `${ctx.user.name} may not replay or retry.`), true);
  const form = await readForm(ctx.req);
  if (ctx.csrf.check(ctx.user.name, form.csrf)) return false;
  renderError(ctx, 403, STALE_FORM);
  return true;
}

function pathOf(url: URL): string | undefined {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return undefined; // a malformed %-escape: no page has that name
  }
}

/**
 * The inspector: a middleware (Express or plain node:http) that serves the deliveries page where it
 * is mounted, `app.use('/payhook', createInspector({ hub, auth }))`. Every request is authenticated
 * first; every POST also needs write permission, a writable inspector and the page's CSRF token.
 */
export function createInspector(options: InspectorOptions): Inspector {
  const settings = resolveInspectorOptions(options);
  const renderer = createRenderer();
  const csrf = createCsrfTokens(settings.csrfSecret);

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
    const path = pathOf(url) ?? '';
    const route = ROUTES.find(([method, pattern]) => method === req.method && pattern.test(path));
    if (!route) {
      const known = ROUTES.some(([, pattern]) => pattern.test(path));
      return renderError(ctx, known ? 405 : 404, 'No such page.');
    }
    if (route[0] === 'POST' && (await refusePost(ctx))) return;
    return route[2](ctx, route[1].exec(path)![1] ?? '');
  };

  return (req, res, next) => {
    handle(req, res).catch((error: unknown) => {
      settings.hub.logger.error({ err: error }, '@payhook/inspector: a page failed');
      if (next) return next(error);
      if (!res.headersSent) sendHtml(res, 500, FAILED);
    });
  };
}
