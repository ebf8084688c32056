import { runCli } from '../src';
import type { CliIo } from '../src/cli';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in-process, its output captured (each start of the binary costs about a second). */
export async function captureCli(
  args: string[],
  io: Omit<Partial<CliIo>, 'stdout' | 'stderr'> = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    ...io,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
  });
  return { code, stdout, stderr };
}
