import { parseBytes, parseDuration, parseRate } from './duration';

describe('parseDuration', () => {
  it.each([
    ['900s', 900_000],
    ['100ms', 100],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['30d', 2_592_000_000],
    ['15', 15_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '-5s', '0s', '10 parsecs', '5w'])('refuses %p', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseRate', () => {
  it('reads count and window', () => {
    expect(parseRate('5/300s')).toEqual({ limit: 5, windowMs: 300_000 });
    expect(parseRate('100/1m')).toEqual({ limit: 100, windowMs: 60_000 });
  });

  it.each(['5', '/60s', '0/60s', '5/', '5/xyz', 'ten/60s'])('refuses %p', (text) => {
    expect(parseRate(text)).toBeUndefined();
  });
});

describe('parseBytes', () => {
  it('reads sizes with units', () => {
    expect(parseBytes('100kb')).toBe(102_400);
    expect(parseBytes('1mb')).toBe(1_048_576);
    expect(parseBytes('512')).toBe(512);
  });

  it('refuses nonsense', () => {
    expect(parseBytes('lots')).toBeUndefined();
    expect(parseBytes('0kb')).toBeUndefined();
  });
});
