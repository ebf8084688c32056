import type { CountryCode } from '@payhook/signed-param';
import type { MerchantConfig } from './app';

/**
 * Real gateway keys come from these environment variables; a gateway whose variables are absent
 * is not mounted. With none of them set, `npm start` runs the built-in simulators instead.
 */
export const ENV_VARS = {
  newpay: ['NEWPAY_PLATFORM_PUBLIC_KEY', 'NEWPAY_APP_ID'],
  signedParam: ['PLATFORM_PUBLIC_KEY', 'PLATFORM_COUNTRY'],
  cashy: ['CASHY_MERCHANT_ID', 'CASHY_API_KEY', 'CASHY_TIME_ZONE', 'CASHY_CURRENCY'],
  lailaolab: ['LAILAOLAB_SECRET_KEY', 'LAILAOLAB_SOCKET_URL', 'LAILAOLAB_API_BASE'],
} as const;

type Env = Record<string, string | undefined>;

/** True when any gateway variable is set: the app then serves real gateways, no simulator. */
export function hasRealKeys(env: Env): boolean {
  return Object.values(ENV_VARS)
    .flat()
    .some((name) => env[name]);
}

/** Only gateways whose required variables are set (the plugins check them at construction). */
export function configFromEnv(env: Env): MerchantConfig {
  const config: MerchantConfig = {};
  if (env.NEWPAY_PLATFORM_PUBLIC_KEY || env.NEWPAY_APP_ID)
    config.newpay = {
      platformPublicKey: env.NEWPAY_PLATFORM_PUBLIC_KEY ?? '',
      appId: env.NEWPAY_APP_ID ?? '',
    };
  if (env.PLATFORM_PUBLIC_KEY)
    config.signedParam = {
      id: 'paycools',
      platformPublicKey: env.PLATFORM_PUBLIC_KEY,
      country: (env.PLATFORM_COUNTRY ?? 'PH') as CountryCode,
    };
  if (env.CASHY_MERCHANT_ID || env.CASHY_API_KEY)
    config.cashy = {
      merchantId: env.CASHY_MERCHANT_ID ?? '',
      apiKey: env.CASHY_API_KEY ?? '',
      timeZone: env.CASHY_TIME_ZONE,
      currency: env.CASHY_CURRENCY ?? null,
    };
  if (env.LAILAOLAB_SECRET_KEY)
    config.lailaolab = {
      secretKey: env.LAILAOLAB_SECRET_KEY,
      url: env.LAILAOLAB_SOCKET_URL,
      statusQuery: { baseUrl: env.LAILAOLAB_API_BASE },
      confirmByStatusQuery: true,
    };
  return config;
}
