/** The package name: it starts every error message. */
export const SOURCE = '@acme/payhook-acme';
