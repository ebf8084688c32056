/**
 * Which payment an event belongs to: its events are processed in the order they were queued. A
 * test-mode event's payment is the sandbox transaction, not a live one that shares its id: its key
 * has `test:` as its event id and completion marker do (core's modeKey), so a sandbox event that
 * waits or is dead never holds up, or kills, the live payment. A live transaction id that itself
 * starts with `test:` or `live:` gets `live:` (modeKey's rule, so it is not the sandbox one of the
 * rest); other live keys are unchanged, so events queued before modes keep their order.
 */
export function paymentKey(event: {
  provider: string;
  transactionId: string;
  mode?: 'live' | 'test';
}): string {
  const id = event.transactionId;
  if (event.mode === 'test') return `${event.provider}:test:${id}`;
  const escaped = id.startsWith('test:') || id.startsWith('live:') ? `live:${id}` : id;
  return `${event.provider}:${escaped}`;
}
