import { describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/identity/identity.js';
import { resolveOptions } from '../../src/transport/options.js';

describe('LinkManager options', () => {
  const identity = generateIdentity();

  it.each(['maxFrameBytes', 'maxSendQueueBytes', 'sendHighWaterBytes'] as const)(
    'refuses %s that is not a positive integer',
    (name) => {
      for (const value of [0, -1, 1.5, Number.NaN]) {
        expect(() => resolveOptions({ identity, [name]: value })).toThrow(new RegExp(name));
      }
    },
  );

  it('takes the defaults when nothing is given', () => {
    expect(resolveOptions({ identity }).maxFrameBytes).toBeGreaterThan(1024 * 1024);
  });
});
