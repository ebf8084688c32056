/** Shared by the crash test and its child processes (which must not load jest-only modules). */
export const CASHY_MERCHANT = '100001';
export const CASHY_API_KEY = 'cashy-hostile-api-key-0f3a9c';
