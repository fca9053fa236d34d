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

/** Quotes a value for sh (single quotes). */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs a `sh -e` script as one process tree. Each spawn blocks the agent's event loop until the
 * child has exec'd (a few ms on an idle node, tens on a loaded one), so work of several commands goes
 * in one script. A failure is reported as a CommandError of `[name]` with the script's stderr.
 */
export async function runScript(name: string, lines: readonly string[]): Promise<string> {
  try {
    return await run(['sh', '-ec', lines.join('\n')]);
  } catch (error) {
    if (error instanceof CommandError) throw new CommandError([name], error.exitCode, error.stderr);
    throw error;
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
