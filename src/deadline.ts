/**
 * Settles as `work` does, or rejects with `timeout()` once `ms` have passed. The timer is
 * cleared either way, so no deadline keeps a process alive after its work is done.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `work` at most `ms`: true when it settled in time (it carries on either way). */
export function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  return withDeadline(settled, ms, () => new DeadlinePassed()).catch((err) => {
    if (err instanceof DeadlinePassed) return false;
    throw err;
  });
}

class DeadlinePassed extends Error {}
