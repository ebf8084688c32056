/** Which payment an event belongs to: its events are processed in the order they were queued. */
export function paymentKey(event: { provider: string; transactionId: string }): string {
  return `${event.provider}:${event.transactionId}`;
}
