import { randomBytes } from 'node:crypto';
import type { InspectorAuth } from '@payhook/inspector';
import { startMerchantApp, ROUTES } from './app';
import { configFromEnv, ENV_VARS, hasRealKeys } from './config';
import { runScenario } from './scenario';

/**
 * The inspector's one login: `admin` and INSPECTOR_PASSWORD, or a password made up at each start
 * (printed with the URL). It may replay: this is the merchant's own console.
 */
function inspectorLogin(): { auth: InspectorAuth; username: string; password: string } {
  const username = 'admin';
  const password = process.env.INSPECTOR_PASSWORD || randomBytes(12).toString('base64url');
  return { auth: { basic: [{ username, password, write: true }] }, username, password };
}

function printInspector(url: string, login: { username: string; password: string }): void {
  console.log(
    `\ninspector: ${url}${ROUTES.inspector}/  (login ${login.username} / ${login.password})`,
  );
  console.log(`metrics:   ${url}${ROUTES.metrics}`);
  console.log('serving until Ctrl-C');
}

function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/**
 * `npm start`. With no gateway variables set: the built-in scenario against local simulators,
 * then the order table; then the shop keeps serving with the inspector mounted until Ctrl-C
 * (`--once`: exit at once, 0 when every step went as expected). With real keys in the
 * environment (see ENV_VARS): serve the configured gateways on PORT until Ctrl-C.
 */
async function main(): Promise<number> {
  const once = process.argv.includes('--once');
  const port = Number(process.env.PORT ?? 3000);
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(
      'npm start: runs every gateway against local simulators and prints the order table.',
    );
    console.log('Then it keeps serving the shop with the inspector (PORT, default 3000) until');
    console.log('Ctrl-C; --once exits after the table. INSPECTOR_PASSWORD sets the login.');
    console.log('Set real keys to serve instead (PORT, default 3000):');
    for (const [gateway, names] of Object.entries(ENV_VARS))
      console.log(`  ${gateway.padEnd(12)} ${names.join(', ')}`);
    return 0;
  }
  if (hasRealKeys(process.env)) {
    const config = configFromEnv(process.env);
    const login = inspectorLogin();
    const app = await startMerchantApp(config, { port, inspector: { auth: login.auth } });
    console.log(`merchant app on ${app.url}`);
    for (const [gateway, route] of Object.entries(ROUTES))
      if (config[gateway as keyof typeof config])
        console.log(`  ${gateway.padEnd(12)} POST ${app.url}${route}`);
    printInspector(app.url, login);
    await untilStopped();
    await app.close();
    return 0;
  }
  console.log('payhook merchant example: every gateway, played locally with test keys\n');
  const started = Date.now();
  const login = once ? undefined : inspectorLogin();
  const result = await runScenario(login ? { serve: { port, auth: login.auth } } : {});
  console.log('\nOrders:\n');
  console.log(result.table);
  const unexpected = result.steps.filter((s) => s.outcome !== s.expected);
  console.log(
    `\n${result.steps.length} deliveries in ${Date.now() - started} ms; ` +
      (unexpected.length === 0
        ? 'each one answered as the gateway expects.'
        : `${unexpected.length} did not: ${unexpected.map((s) => s.label).join('; ')}`),
  );
  if (result.served) {
    printInspector(result.served.url, login!);
    await untilStopped();
    await result.served.close();
  }
  return result.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
