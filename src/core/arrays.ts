/**
 * Removes `count` elements of `array` from `at` on, moving the later ones down: what
 * splice(at, count) does, without the array of removed elements splice allocates, and popping
 * rather than setting the length, which keeps the array's room for the next push (`length = 0`
 * drops it, to be allocated again). Arrays that are emptied or shortened on every event (the
 * broadcast layer's scanned lists, the simulator's reused actions) go through it.
 */
export function removeSlots<T>(array: T[], at: number, count: number): void {
  for (let i = at + count; i < array.length; i++) array[i - count] = array[i] as T;
  for (let i = 0; i < count; i++) array.pop();
}
