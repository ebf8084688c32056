/**
 * Which payment an event belongs to: its events are processed in the order they were queued. A
 * test-mode event's payment is the sandbox transaction, not a live one that shares its id: its key
 * has `test:` as its event id and completion marker do (core's finalize, completedMarker), so a
 * sandbox event that waits or is dead never holds up, or kills, the live payment. Live keys are
 * unchanged, so events queued before modes keep their order.
 */
export function paymentKey(event: {
  provider: string;
  transactionId: string;
  mode?: 'live' | 'test';
}): string {
  return `${event.provider}:${event.mode === 'test' ? 'test:' : ''}${event.transactionId}`;
}
