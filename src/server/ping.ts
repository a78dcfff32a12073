import { withDeadline } from '../deadline.js';
import type { RedisClient } from '../redis.js';

/**
 * PING with a deadline: a Redis that accepts the connection but never answers is not ready
 * either. A connection still (re)connecting gets the same deadline to come up, so a probe
 * right after start-up or right after Redis returns does not fail for nothing.
 */
export async function pingRedis(connection: RedisClient, timeoutMs: number): Promise<string> {
  let onReady: (() => void) | undefined;
  const ready =
    connection.status === 'ready'
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          onReady = resolve;
          connection.once('ready', onReady);
        });
  try {
    return await withDeadline(
      ready.then(() => connection.ping()),
      timeoutMs,
      () => new Error(`no answer within ${timeoutMs} ms (connection ${connection.status})`),
    );
  } finally {
    if (onReady) connection.off('ready', onReady);
  }
}
