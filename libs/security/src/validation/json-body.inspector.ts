import { FORBIDDEN_JSON_KEYS, MAX_JSON_DEPTH } from './json-body.constants';

/**
 * Why a parsed JSON body is refused, or `undefined` when it is acceptable: the top level
 * must be an object, no key may reach a prototype (`__proto__`, `constructor`,
 * `prototype`, at any depth), and nesting stops at {@link MAX_JSON_DEPTH}. Iterative, so a
 * hostile body cannot overflow the stack.
 */
export function inspectJsonBody(body: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return 'Request body must be a JSON object';
  }
  const pending: Array<[unknown, number]> = [[body, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (value === null || typeof value !== 'object') {
      continue;
    }
    if (depth > maxDepth) {
      return `Request body nests deeper than ${maxDepth} levels`;
    }
    if (Array.isArray(value)) {
      for (const item of value) {
        pending.push([item, depth + 1]);
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_JSON_KEYS.includes(key)) {
        return `Request body must not contain the key "${key}"`;
      }
      pending.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}
