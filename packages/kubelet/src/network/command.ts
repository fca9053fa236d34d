import { execFile } from 'node:child_process';

/** A failed command, with what it wrote to stderr: the message a kubelet event can carry. */
export class CommandError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')}: ${stderr.trim() || `exit code ${exitCode}`}`);
    this.name = 'CommandError';
  }
}

/** Runs a program (no shell), resolving with its stdout; `input` is written to its stdin. */
export function run(command: readonly string[], input?: string): Promise<string> {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('run: empty command');
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new CommandError(command, code, stderr || error.message));
      } else {
        resolve(stdout);
      }
    });
    // An early exit closes stdin under us: the exit callback reports the failure, not this.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** As `run`, but a failure whose stderr matches `ignorable` (e.g. "Cannot find device") resolves. */
export async function runIgnoring(command: readonly string[], ignorable: RegExp): Promise<void> {
  try {
    await run(command);
  } catch (error) {
    if (error instanceof CommandError && ignorable.test(error.stderr)) return;
    throw error;
  }
}
