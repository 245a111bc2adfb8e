import { describe, expect, it } from 'vitest';
import { createNode } from '../../src/node/node.js';
import { MAX_VERIFY_THREADS } from '../../src/node/options.js';

describe('createNode refuses mistaken options before binding or dialling anything', () => {
  it('a bootstrap address that does not parse', () => {
    expect(() => createNode({ discovery: false, bootstrap: ['127.0.0.1:7000', 'not an address'] })).toThrow(
      /not an address/,
    );
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_VERIFY_THREADS + 1])(
    'verifyThreads %s',
    (threads) => {
      expect(() => createNode({ discovery: false, verifyThreads: threads })).toThrow(RangeError);
    },
  );

  it('accepts what is meant', () => {
    for (const threads of [0, 2, MAX_VERIFY_THREADS]) {
      expect(() =>
        createNode({ discovery: false, verifyThreads: threads, bootstrap: ['[::1]:49152'] }),
      ).not.toThrow();
    }
  });
});
