/**
 * A container's termination message, as the kubelet reads it: the file the container wrote at its
 * `terminationMessagePath` (a node file the kubelet mounts there; at most 4096 bytes), or, with
 * `terminationMessagePolicy: FallbackToLogsOnError` and a failed exit, the tail of its log (80 lines,
 * at most 2048 bytes).
 */
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const MESSAGE_MAX_BYTES = 4096;
export const LOG_TAIL_MAX_LINES = 80;
export const LOG_TAIL_MAX_BYTES = 2048;

/** Creates the empty file a container's terminationMessagePath is bound to. */
export async function prepareMessageFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, '', { flag: 'w' });
}

export async function readTerminationMessage(input: {
  readonly messagePath: string;
  readonly logPath: string;
  readonly policy: string | undefined;
  readonly exitCode: number | undefined;
  /** The runtime's reason: a container that could not even start has no logs to fall back to. */
  readonly reason: string | undefined;
}): Promise<string> {
  const written = await readHead(input.messagePath, MESSAGE_MAX_BYTES);
  const fallback = input.policy === 'FallbackToLogsOnError' && (input.exitCode ?? 0) !== 0 && input.reason !== 'ContainerCannotRun';
  if (written !== '' || !fallback) return written;
  return logTail(await readFile(input.logPath, 'utf8').catch(() => ''));
}

/** The text of the last lines of a CRI-format log (`<time> <stream> <P|F> <text>`), bounded. */
export function logTail(criLog: string): string {
  const lines = criLog.split('\n').filter((line) => line !== '');
  let text = '';
  for (const line of lines) {
    const match = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (match === null) text += `${line}\n`;
    else text += match[1] === 'F' ? `${match[2]}\n` : match[2];
  }
  const tail = text.split('\n');
  if (tail.at(-1) === '') tail.pop();
  let result = tail.slice(-LOG_TAIL_MAX_LINES).join('\n');
  if (text.endsWith('\n') && result !== '') result += '\n';
  const bytes = Buffer.from(result, 'utf8');
  return bytes.length <= LOG_TAIL_MAX_BYTES ? result : bytes.subarray(bytes.length - LOG_TAIL_MAX_BYTES).toString('utf8');
}

async function readHead(path: string, maxBytes: number): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(maxBytes);
      const { bytesRead } = await handle.read(buffer, 0, maxBytes, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
