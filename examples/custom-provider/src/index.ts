export { createAcmeProvider, createAcmeMiddleware, SOURCE } from './acme';
export type { AcmePayload, AcmeOptions } from './acme';
export { signAcme } from './sign';
export { createAcmeConfirmedProvider, reconcileCharges } from './acme-confirmed';
export type { AcmePing, AcmeCharge, AcmeConfirmedOptions } from './acme-confirmed';
