/**
 * libp2p 3.x is written for Node 22 and calls Promise.withResolvers (ES2024), which Node 20 lacks.
 * This is the standard polyfill of that method, installed before libp2p is loaded.
 */
interface PromiseWithResolversShape<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const PromiseConstructor = Promise as unknown as {
  withResolvers?: <T>() => PromiseWithResolversShape<T>;
};

if (typeof PromiseConstructor.withResolvers !== 'function') {
  PromiseConstructor.withResolvers = <T>(): PromiseWithResolversShape<T> => {
    let resolve: (value: T | PromiseLike<T>) => void = () => {};
    let reject: (reason?: unknown) => void = () => {};
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
