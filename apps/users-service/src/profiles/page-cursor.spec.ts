import { decodePageCursor, encodePageCursor } from './page-cursor';

const position = {
  createdAt: new Date('2025-11-27T10:15:30.123Z'),
  id: '0b7c2f4e-8d1a-4c3b-9e5f-1a2b3c4d5e6f',
};
const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('page cursor', () => {
  it('round-trips a position exactly, to the millisecond', () => {
    const text = encodePageCursor(position);

    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageCursor(text)).toEqual(position);
  });

  it('gives different positions different cursors', () => {
    const later = { ...position, createdAt: new Date(position.createdAt.getTime() + 1) };

    expect(encodePageCursor(later)).not.toBe(encodePageCursor(position));
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['base64url of non-JSON', Buffer.from('not json').toString('base64url')],
    [
      'an object instead of a pair',
      encode({ createdAt: '2025-11-27T10:15:30.123Z', id: position.id }),
    ],
    ['a pair of the wrong length', encode(['2025-11-27T10:15:30.123Z'])],
    ['a non-date time', encode(['yesterday', position.id])],
    ['a date without milliseconds', encode(['2025-11-27T10:15:30Z', position.id])],
    ['an impossible date', encode(['2025-02-30T10:15:30.123Z', position.id])],
    ['a non-UUID id', encode(['2025-11-27T10:15:30.123Z', "x' OR 1=1 --"])],
    [
      'an upper-case id (never issued)',
      encode(['2025-11-27T10:15:30.123Z', position.id.toUpperCase()]),
    ],
    ['a number id', encode(['2025-11-27T10:15:30.123Z', 42])],
    ['an over-long value', 'A'.repeat(300)],
  ])('refuses %s', (_name, text) => {
    expect(decodePageCursor(text)).toBeUndefined();
  });

  it('refuses a non-canonical spelling of a valid cursor', () => {
    const text = encodePageCursor(position);
    // Same decoded bytes, different text: the last character's unused low bits set.
    const last = text.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const variant = text.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];

    expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(text, 'base64url'));
    expect(decodePageCursor(variant)).toBeUndefined();
  });
});
