import { startMerchantApp, ROUTES } from './app';
import { configFromEnv, ENV_VARS, hasRealKeys } from './config';
import { runScenario } from './scenario';

/**
 * `npm start`. With no gateway variables set: the built-in scenario against local simulators,
 * then the order table, then exit (0 when every step went as expected). With real keys in the
 * environment (see ENV_VARS): serve the configured gateways on PORT until Ctrl-C.
 */
async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(
      'npm start: runs every gateway against local simulators and prints the order table.',
    );
    console.log('Set real keys to serve instead (PORT, default 3000):');
    for (const [gateway, names] of Object.entries(ENV_VARS))
      console.log(`  ${gateway.padEnd(12)} ${names.join(', ')}`);
    return 0;
  }
  if (hasRealKeys(process.env)) {
    const config = configFromEnv(process.env);
    const app = await startMerchantApp(config, { port: Number(process.env.PORT ?? 3000) });
    console.log(`merchant app on ${app.url}`);
    for (const [gateway, route] of Object.entries(ROUTES))
      if (config[gateway as keyof typeof config])
        console.log(`  ${gateway.padEnd(12)} POST ${app.url}${route}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await app.close();
    return 0;
  }
  console.log('payhook merchant example: every gateway, played locally with test keys\n');
  const started = Date.now();
  const result = await runScenario();
  console.log('\nOrders:\n');
  console.log(result.table);
  const unexpected = result.steps.filter((s) => s.outcome !== s.expected);
  console.log(
    `\n${result.steps.length} deliveries in ${Date.now() - started} ms; ` +
      (unexpected.length === 0
        ? 'each one answered as the gateway expects.'
        : `${unexpected.length} did not: ${unexpected.map((s) => s.label).join('; ')}`),
  );
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
