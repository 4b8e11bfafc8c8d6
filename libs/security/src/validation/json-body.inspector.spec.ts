import { inspectJsonBody } from './json-body.inspector';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) {
    value = i % 2 === 0 ? { a: value } : [value];
  }
  return value;
}

describe(inspectJsonBody.name, () => {
  it('accepts an ordinary object', () => {
    expect(inspectJsonBody({ email: 'a@b.c', tags: ['x', { y: 1 }], n: null })).toBeUndefined();
  });

  it.each([null, [], [{ a: 1 }], 'text', 3, true])('refuses the top-level value %j', (body) => {
    expect(inspectJsonBody(body)).toBe('Request body must be a JSON object');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s at any depth', (key) => {
    const top = JSON.parse(`{"${key}": {"isAdmin": true}}`) as unknown;
    const deep = JSON.parse(`{"a": [{"b": {"${key}": 1}}]}`) as unknown;
    expect(inspectJsonBody(top)).toContain(key);
    expect(inspectJsonBody(deep)).toContain(key);
  });

  it('accepts nesting up to the limit and refuses one level more', () => {
    expect(inspectJsonBody({ a: nested(30) }, 32)).toBeUndefined();
    expect(inspectJsonBody({ a: nested(32) }, 32)).toMatch(/deeper than 32/);
  });

  it('survives nesting far beyond the stack depth', () => {
    expect(inspectJsonBody({ a: nested(200_000) })).toMatch(/deeper/);
  });
});
