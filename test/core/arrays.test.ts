import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { removeSlots } from '../../src/core/arrays.js';

describe('removeSlots', () => {
  it('leaves an array as splice(at, count) does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { maxLength: 20 }),
        fc.nat(),
        fc.nat(),
        (items, atSeed, countSeed) => {
          const at = items.length === 0 ? 0 : atSeed % items.length;
          const count = countSeed % (items.length - at + 1);
          const expected = items.slice();
          expected.splice(at, count);
          const actual = items.slice();
          removeSlots(actual, at, count);
          expect(actual).toEqual(expected);
        },
      ),
    );
  });

  it('empties the array when asked to remove everything', () => {
    const items = ['a', 'b', 'c'];
    removeSlots(items, 0, items.length);
    expect(items).toEqual([]);
  });
});
