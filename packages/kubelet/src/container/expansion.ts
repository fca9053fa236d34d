/**
 * Kubernetes' `$(VAR)` expansion (command, args and env values): `$(NAME)` takes the variable's
 * value, `$$` is a literal `$`, and a reference to an unknown variable, an unclosed `$(` or a `$`
 * before any other character is kept as written.
 */

/** Expands `input`; `lookup` answers undefined for a variable it does not know. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let cursor = 0;
  while (cursor < input.length) {
    const dollar = input.indexOf('$', cursor);
    if (dollar === -1 || dollar === input.length - 1) break;
    out += input.slice(cursor, dollar);
    const next = input[dollar + 1];
    if (next === '$') {
      out += '$';
      cursor = dollar + 2;
    } else if (next === '(') {
      const close = input.indexOf(')', dollar + 2);
      if (close === -1) {
        // An unclosed reference: keep "$(" and go on reading after it.
        out += '$(';
        cursor = dollar + 2;
      } else {
        const name = input.slice(dollar + 2, close);
        out += lookup(name) ?? `$(${name})`;
        cursor = close + 1;
      }
    } else {
      out += `$${next}`;
      cursor = dollar + 2;
    }
  }
  return out + input.slice(cursor);
}

/** A lookup over maps searched in order (the first that has the name wins). */
export function lookupIn(...maps: readonly ReadonlyMap<string, string>[]): (name: string) => string | undefined {
  return (name) => {
    for (const map of maps) {
      const value = map.get(name);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}
