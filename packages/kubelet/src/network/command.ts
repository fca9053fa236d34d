import { sharedSpawner } from '../spawner/spawner.js';

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
 * Runs a `sh -e` script as one process tree. Every command is a fork and an exec (~4 ms of CPU on
 * these VMs), so work of several commands goes in one script. A failure is reported as a
 * CommandError of `[name]` with the script's stderr.
 */
export async function runScript(name: string, lines: readonly string[]): Promise<string> {
  try {
    return await run(['sh', '-ec', lines.join('\n')]);
  } catch (error) {
    if (error instanceof CommandError) throw new CommandError([name], error.exitCode, error.stderr);
    throw error;
  }
}

/**
 * Runs a program (no shell) through the agent's spawner, resolving with its stdout; `input` is
 * written to its stdin. A non-zero exit is a CommandError with its stderr.
 */
export async function run(command: readonly string[], input?: string): Promise<string> {
  const result = await sharedSpawner().run(command, input);
  if (result.code !== 0) throw new CommandError(command, result.code, result.stderr);
  return result.stdout;
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
