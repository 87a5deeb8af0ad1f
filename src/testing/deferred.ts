/** A promise the test settles by hand (a peer's ack, a call's answer), for specs that step through an exchange. */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every callback already queued on settled promises run. */
export const flushPromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What `promise` has done so far, without waiting for it: 'pending', 'resolved' or the rejection's error. */
export async function peek(promise: Promise<unknown>): Promise<'pending' | 'resolved' | Error> {
  const PENDING = Symbol('pending');
  const seen = await Promise.race([promise.then(() => 'resolved' as const, (e: Error) => e), flushPromises().then(() => PENDING)]);
  return seen === PENDING ? 'pending' : (seen as 'resolved' | Error);
}
