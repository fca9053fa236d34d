import type { Command } from 'commander';

/**
 * Parses `argv` with `program` as every k8ts process does: `--help`/`--version` exit 0, a bad flag
 * prints `<name>: <message>` once and exits 2, as Go's flag package and kube's components do.
 */
export function parseFlagsOrExit<Flags>(program: Command, argv: readonly string[]): Flags {
  // commander would print the error itself too: it is printed once, below, with the program's name.
  program.exitOverride().configureOutput({ outputError: () => undefined });
  try {
    program.parse([...argv], { from: 'user' });
    return program.opts<Flags & Record<string, unknown>>();
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    if (code === 0) process.exit(0);
    exitWithUsageError(program.name(), error);
  }
}

/**
 * Ends the process as a bad flag does: `<name>: <message>` on stderr, exit code 2. For what is
 * checked after parsing (a flag's value against another, a --config file, a --controllers list).
 */
export function exitWithUsageError(name: string, error: unknown): never {
  process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}

/** A comma-separated list flag (`--master a,b`, `--etcd-servers`), trimmed, empty items dropped. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Go-style durations as kube's flags take them ("15s", "500ms", "1m", "1h", "1m30s"), in ms. */
export function parseDuration(value: string): number {
  const text = value.trim();
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!match) throw new Error(`invalid duration "${value}": takes a duration like 15s, 500ms or 1m30s`);
    total += Number(match[1]) * (units[match[2] as string] as number);
    rest = rest.slice(match[0].length);
  }
  if (text === '') throw new Error('invalid duration "": takes a duration like 15s, 500ms or 1m30s');
  return total;
}

/** A commander argParser for a duration flag. */
export function durationFlag(name: string): (value: string) => number {
  return (value) => {
    try {
      return parseDuration(value);
    } catch (error) {
      throw new Error(`${name}: ${(error as Error).message}`);
    }
  };
}

/** A commander argParser for a port (0 turns the listener off). */
export function portFlag(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0 turns it off), got ${value}`);
    return n;
  };
}

/** A commander argParser for a number within [min, max]. */
export function numberFlag(name: string, options: { min?: number; max?: number; integer?: boolean } = {}): (value: string) => number {
  return (value) => {
    const n = Number(value);
    const ok = value.trim() !== '' && Number.isFinite(n) && (!options.integer || Number.isInteger(n)) && n >= (options.min ?? -Infinity) && n <= (options.max ?? Infinity);
    if (!ok) throw new Error(`${name} takes ${options.integer ? 'a whole number' : 'a number'}${options.min !== undefined ? ` ≥ ${options.min}` : ''}${options.max !== undefined ? ` ≤ ${options.max}` : ''}, got ${value}`);
    return n;
  };
}

/** A commander argParser for kube's boolean flags (`--leader-elect`, `--leader-elect=false`). */
export function booleanFlag(value: string): boolean {
  return value !== 'false';
}
