import type { Command } from 'commander';

/**
 * Parses `argv` with `program` as every k8ts process does: `--help`/`--version` exit 0, a bad flag
 * prints `<name>: <message>` and exits 2, as Go's flag package and kube's components do.
 */
export function parseFlagsOrExit<Flags>(program: Command, argv: readonly string[]): Flags {
  program.exitOverride().configureOutput({ writeErr: (text) => process.stderr.write(text) });
  try {
    program.parse([...argv], { from: 'user' });
    return program.opts<Flags & Record<string, unknown>>();
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    if (code === 0) process.exit(0);
    process.stderr.write(`${program.name()}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
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
