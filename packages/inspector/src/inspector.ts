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
const ROUTES: Array<[method: 'GET' | 'POST', pattern: RegExp, name: string]> = [
  ['GET', /^\/?$/, 'list'],
  ['GET', new RegExp(`^/deliveries/${ID}$`), 'delivery'],
  ['POST', new RegExp(`^/deliveries/${ID}/replay$`), 'replay'],
  ['GET', /^\/dead-letters$/, 'dead-letters'],
  ['POST', /^\/dead-letters\/retry-all$/, 'retry-all'],
  ['POST', new RegExp(`^/dead-letters/${ID}/retry$`), 'retry'],
];

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
      return sendHtml(
        res,
        401,
        '<!doctype html><title>401</title><p>Sign in to see the payhook inspector.</p>',
        challenge,
      );
    }
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    const ctx: PageContext = {
      settings,
      renderer,
      csrf,
      req,
      res,
      user: decision.user,
      base: req.baseUrl ?? '',
      query: url.searchParams,
    };
    const path = decodeURIComponent(url.pathname);
    const route = ROUTES.find(([method, pattern]) => method === req.method && pattern.test(path));
    if (!route) return renderError(ctx, req.method === 'GET' ? 404 : 405, 'No such page.');
    const param = route[1].exec(path)![1];
    if (route[0] === 'POST') {
      if (settings.readOnly) return renderError(ctx, 403, 'The inspector is read-only.');
      if (!canWrite(ctx)) return renderError(ctx, 403, `${ctx.user.name} may not replay or retry.`);
      const form = await readForm(req);
      if (!csrf.check(ctx.user.name, form.csrf))
        return renderError(
          ctx,
          403,
          'The form is stale or was not sent by this page (CSRF token missing or wrong). Reload and try again.',
        );
    }
    switch (route[2]) {
      case 'list':
        return listPage(ctx);
      case 'delivery':
        return deliveryPage(ctx, param!);
      case 'replay':
        return replayAction(ctx, param!);
      case 'dead-letters':
        return deadLettersPage(ctx);
      case 'retry-all':
        return retryAction(ctx, undefined);
      default:
        return retryAction(ctx, param!);
    }
  };

  return (req, res, next) => {
    handle(req, res).catch((error: unknown) => {
      settings.hub.logger.error({ err: error }, '@payhook/inspector: a page failed');
      if (next) return next(error);
      if (!res.headersSent)
        sendHtml(
          res,
          500,
          '<!doctype html><title>500</title><p>The inspector failed; see the log.</p>',
        );
    });
  };
}
