/** Deepest nesting of objects and arrays accepted in a JSON body. */
export const MAX_JSON_DEPTH = 32;

/** Keys that could reach an object's prototype; refused anywhere in a body. */
export const FORBIDDEN_JSON_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** `BODY_LIMIT`'s default (CONTRACT §2). */
export const DEFAULT_BODY_LIMIT_BYTES = 100 * 1024;
