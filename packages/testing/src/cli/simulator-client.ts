import { IoError, networkReason, UsageError } from './errors';

/** What `payhook send lailaolab --simulator` asks a running simulator to play. */
export interface PlayRequest {
  transactionId: string;
  orderNo: string;
  amount: string;
  outcome: 'pay' | 'fail';
  timeoutMs: number;
}

/** POSTs to the simulator's control endpoint; its refusal is the user's input (exit 2). */
async function callControl(
  control: string,
  pathname: string,
  body: unknown,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(new URL(pathname, control), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new IoError(`could not reach the simulator at ${control} (${networkReason(error)})`);
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok)
    throw new UsageError(
      `the simulator refused ${pathname}: ${String(json.error ?? response.status)}`,
    );
  return json;
}

/** Registers the transaction on the simulator, then pays or fails it: its socket emits it. */
export async function playOnSimulator(
  control: string,
  p: PlayRequest,
): Promise<{ message: unknown; clients: number }> {
  const { transactionId, orderNo, amount } = p;
  await callControl(control, '/transactions', { transactionId, orderNo, amount }, p.timeoutMs);
  const played = await callControl(
    control,
    `/transactions/${encodeURIComponent(transactionId)}/${p.outcome}`,
    {},
    p.timeoutMs,
  );
  return { message: played.message, clients: Number(played.clients ?? 0) };
}
