export { createAcmeProvider, createAcmeMiddleware } from './provider';
export { SOURCE, acmeSchema } from './schema';
export type { AcmePayload } from './schema';
export type { AcmeOptions, AcmeMiddlewareOptions } from './options';
export { createAcmeConfirmedProvider, reconcileCharges } from './acme-confirmed';
export type { AcmePing, AcmeCharge, AcmeConfirmedOptions } from './acme-confirmed';
export * from './nusa';
