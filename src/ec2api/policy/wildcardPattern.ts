/**
 * IAM's wildcards: `*` matches any run of characters (none included), `?` exactly one
 * (IAM User Guide, "Action", "Resource" and the `…Like` condition operators). Everything
 * else matches itself.
 */

const compiled = new Map<string, RegExp>();
const COMPILED_LIMIT = 1024;

export function matchesWildcard(
  pattern: string,
  value: string,
  options: { ignoreCase: boolean },
): boolean {
  const cacheKey = `${options.ignoreCase ? 'i' : 's'}:${pattern}`;
  let expression = compiled.get(cacheKey);
  if (expression === undefined) {
    expression = toRegExp(pattern, options.ignoreCase);
    if (compiled.size >= COMPILED_LIMIT) compiled.clear();
    compiled.set(cacheKey, expression);
  }
  return expression.test(value);
}

function toRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const source = [...pattern]
    .map((character) => {
      if (character === '*') return '[\\s\\S]*';
      if (character === '?') return '[\\s\\S]';
      return character.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'iu' : 'u');
}
