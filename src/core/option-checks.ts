/**
 * The checks every options validator in the core makes. A failure is a programming error in the
 * caller's configuration, not bad input from the network, so it throws RangeError naming the key.
 */
type NumericKeys<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];

export function requirePositiveDurations<T>(options: T, keys: readonly NumericKeys<T>[]): void {
  for (const key of keys) {
    const value = options[key] as number;
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`${String(key)} must be a positive duration`);
  }
}

export function requirePositiveIntegers<T>(options: T, keys: readonly NumericKeys<T>[]): void {
  for (const key of keys) {
    const value = options[key] as number;
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`${String(key)} must be a positive integer`);
  }
}

export function requireNonNegativeIntegers<T>(options: T, keys: readonly NumericKeys<T>[]): void {
  for (const key of keys) {
    const value = options[key] as number;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${String(key)} must be a non-negative integer`);
    }
  }
}
