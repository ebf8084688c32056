import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the inspector needs of a request: Node's, plus what Express adds when it mounts it. */
export type InspectorRequest = IncomingMessage & { baseUrl?: string; body?: unknown };

// The page runs no script at all; styles are inline in the page; nothing is loaded from elsewhere.
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
};

export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...headers }))
    res.setHeader(name, value);
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(html);
}

const FORM_LIMIT = 8 * 1024;

/**
 * The fields of a POSTed form. A body parser mounted before the inspector may have read it
 * already (express.urlencoded leaves an object); otherwise it is read here, at most 8 KiB.
 */
export async function readForm(req: InspectorRequest): Promise<Record<string, string>> {
  if (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body))
    return Object.fromEntries(
      Object.entries(req.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
  const type = String(req.headers['content-type'] ?? '');
  if (!type.startsWith('application/x-www-form-urlencoded') || req.readableEnded) return {};
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT) return {};
    chunks.push(chunk);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}
