import { describe, expect, it } from 'vitest';
import { decodeChat, encodeChat, isValidName, MAX_LINE_CHARS } from '../../src/cli/chat-protocol.js';

const raw = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value), 'utf8');

describe('chat payloads from other peers', () => {
  it('round-trips a line', () => {
    const line = { kind: 'line', name: 'ann', text: 'hello, mesh' } as const;
    expect(decodeChat(encodeChat(line))).toEqual(line);
  });

  it('strips escape sequences, bidirectional overrides, invisible and separator characters', () => {
    const text =
      '\u001b[2Jclear\u0007 \u202eesrever\u202c \u2066iso\u2069 zero\u200bwidth line\u2028break\u0085';
    expect(decodeChat(raw({ kind: 'line', name: 'b\u202eob', text }))).toEqual({
      kind: 'line',
      name: 'bob',
      text: '[2Jclear esrever iso zerowidth linebreak',
    });
  });

  it('refuses a name that is nothing once stripped, or too long', () => {
    expect(decodeChat(raw({ kind: 'joined', name: '\u0007'.repeat(8) }))).toBeUndefined();
    expect(decodeChat(raw({ kind: 'joined', name: '\u202e' }))).toBeUndefined();
    expect(decodeChat(raw({ kind: 'joined', name: 'x'.repeat(33) }))).toBeUndefined();
    expect(decodeChat(raw({ kind: 'joined', name: 'x'.repeat(32) }))).toEqual({
      kind: 'joined',
      name: 'x'.repeat(32),
    });
  });

  it('strips a paragraph separator too', () => {
    expect(decodeChat(raw({ kind: 'line', name: 'ann', text: 'one\u2029two' }))).toEqual({
      kind: 'line',
      name: 'ann',
      text: 'onetwo',
    });
  });

  it('takes a line as long as ours may be, and refuses a longer one', () => {
    const longest = 'x'.repeat(MAX_LINE_CHARS);
    expect(decodeChat(raw({ kind: 'line', name: 'ann', text: longest }))).toEqual({
      kind: 'line',
      name: 'ann',
      text: longest,
    });
    expect(decodeChat(raw({ kind: 'line', name: 'ann', text: `${longest}x` }))).toBeUndefined();
  });

  it('round-trips a goodbye', () => {
    expect(decodeChat(encodeChat({ kind: 'left', name: 'ann' }))).toEqual({ kind: 'left', name: 'ann' });
  });

  it('refuses what is not chat', () => {
    for (const value of [null, 'text', [1], { kind: 'line', name: 'a' }, { kind: 'other', name: 'a' }]) {
      expect(decodeChat(raw(value))).toBeUndefined();
    }
    expect(decodeChat(Buffer.from('not json'))).toBeUndefined();
  });

  it('takes as our own name only printable text', () => {
    expect(isValidName('ann@host')).toBe(true);
    expect(isValidName('a\u202eb')).toBe(false);
    expect(isValidName('a\nb')).toBe(false);
    expect(isValidName('')).toBe(false);
    expect(isValidName('x'.repeat(32))).toBe(true);
    expect(isValidName('x'.repeat(33))).toBe(false);
  });
});
