export { createAcmeProvider, createAcmeMiddleware } from './provider';
export { SOURCE, acmeSchema } from './schema';
export type { AcmePayload } from './schema';
export type { AcmeOptions, AcmeMiddlewareOptions } from './options';
export { signAcme } from './sign';
export { createAcmeConfirmedProvider, reconcileCharges } from './acme-confirmed';
export type { AcmePing, AcmeCharge, AcmeConfirmedOptions } from './acme-confirmed';
export { createNusaProvider, nusaSignature, signNusa, NUSA_SOURCE } from './nusa';
export type { NusaNotice, NusaRecord, NusaConfirmation, NusaOptions } from './nusa';
