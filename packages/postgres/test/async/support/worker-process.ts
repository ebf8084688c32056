/** One worker process: `payhook-postgres worker` through runWorkerCommand, stopped by SIGTERM (or killed). */
import { resolve } from 'node:path';
import { runWorkerCommand } from '../../../src/cli';
import { DATABASE_URL } from '../../support/db';

const argv = [
  '--database-url',
  DATABASE_URL,
  '--schema',
  process.env.SCHEMA!,
  '--listeners',
  resolve(__dirname, 'listeners.ts'),
  '--concurrency',
  process.env.CONCURRENCY ?? '4',
];
runWorkerCommand(argv, {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
}).then((code) => process.exit(code));
