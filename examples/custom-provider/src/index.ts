export { createAcmeProvider, createAcmeMiddleware, SOURCE } from './acme';
export type { AcmePayload, AcmeOptions } from './acme';
export { signAcme } from './sign';
