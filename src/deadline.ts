/**
 * `work`, or `onTimeout()` once `ms` have passed, whichever comes first. The
 * abandoned work cannot be cancelled from here (the runtime drops a request's
 * I/O when the request ends); this bounds how long anyone waits for it.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
