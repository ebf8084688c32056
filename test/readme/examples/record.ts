/**
 * The README examples call "your own code" (an order store, a database, a QR call). These stand-ins
 * print each call as one JSON line on stdout, so that the test running the example sees what its
 * listeners did.
 */
export function record(call: string, ...args: unknown[]): Promise<void> {
  process.stdout.write(`${JSON.stringify({ call, args })}\n`);
  return Promise.resolve();
}
