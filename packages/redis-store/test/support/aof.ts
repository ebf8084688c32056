/**
 * Reads what a redis-server's append-only file holds (Redis 7 multi-part AOF: `appendonlydir/`
 * with a manifest), to compare what Redis acknowledged with what it had written when it was killed.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The commands of the AOF's incremental files, in order, each as its arguments (as text). */
export function readAofCommands(dataDir: string): string[][] {
  const dir = join(dataDir, 'appendonlydir');
  const manifest = join(dir, 'appendonly.aof.manifest');
  if (!existsSync(manifest)) return [];
  const files = readFileSync(manifest, 'utf8')
    .split('\n')
    .map((line) => /^file (\S+) seq \d+ type ([bhi])/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[2] !== 'h' && m[1]!.endsWith('.aof'))
    .map((m) => m[1]!);
  return files.flatMap((file) => parseResp(readFileSync(join(dir, file))));
}

/** RESP arrays of bulk strings (`*N`, then `$len` + bytes N times); a truncated tail is dropped. */
export function parseResp(buffer: Buffer): string[][] {
  const commands: string[][] = [];
  let at = 0;
  const line = (): string | undefined => {
    const end = buffer.indexOf('\r\n', at);
    if (end < 0) return undefined;
    const text = buffer.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  while (at < buffer.length) {
    const head = line();
    if (head === undefined || !head.startsWith('*')) break;
    const args: string[] = [];
    for (let n = Number(head.slice(1)); n > 0; n--) {
      const size = line();
      if (size === undefined || !size.startsWith('$')) return commands;
      const length = Number(size.slice(1));
      if (at + length + 2 > buffer.length) return commands;
      args.push(buffer.toString('utf8', at, at + length));
      at += length + 2;
    }
    commands.push(args);
  }
  return commands;
}

/** Copies the AOF directory as it is now (the server killed, not yet restarted). */
export function snapshotAof(dataDir: string, to: string): void {
  cpSync(join(dataDir, 'appendonlydir'), join(to, 'appendonlydir'), { recursive: true });
}

/** Per key, the values written to it (SET) and deletions (`<del>`), in AOF order. */
export function writesByKey(commands: string[][]): Map<string, string[]> {
  const writes = new Map<string, string[]>();
  const add = (key: string, value: string): void => {
    const list = writes.get(key) ?? [];
    list.push(value);
    writes.set(key, list);
  };
  for (const [name, key, value] of commands) {
    const command = name?.toUpperCase();
    if (command === 'SET' && key !== undefined) add(key, value ?? '');
    else if ((command === 'DEL' || command === 'UNLINK') && key !== undefined) add(key, '<del>');
  }
  return writes;
}
