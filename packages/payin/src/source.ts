/** Starts every error message of this package. */
export const SOURCE = '@payhook/payin';
