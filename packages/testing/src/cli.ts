// The payhook CLI's entry (bin/payhook.js loads this file, or dist/cli.js): its parts are in cli/.
export { main } from './cli/main';
export { EXIT } from './cli/errors';
export type { CliIo } from './cli/io';
