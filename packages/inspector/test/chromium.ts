import { ensureDebianProgram } from '../../../test/support/debian';

/** Debian's Chromium: the browser tests drive it through playwright-core, nothing downloaded. */
export const CHROMIUM = process.env.PAYHOOK_CHROMIUM ?? '/usr/bin/chromium';

/** Installs Debian's chromium on a new machine (see ensureDebianProgram). */
export const ensureChromium = (): string => ensureDebianProgram(CHROMIUM, 'chromium');
