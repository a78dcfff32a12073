import type { RedisClient } from '../redis.js';

/**
 * PING with a deadline: a Redis that accepts the connection but never answers is not ready
 * either. A connection still (re)connecting gets the same deadline to come up, so a probe
 * right after start-up or right after Redis returns does not fail for nothing.
 */
export async function pingRedis(connection: RedisClient, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms (connection ${connection.status})`)), timeoutMs);
  });
  const ready =
    connection.status === 'ready'
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          onReady = resolve;
          connection.once('ready', onReady);
        });
  try {
    return await Promise.race([ready.then(() => connection.ping()), deadline]);
  } finally {
    clearTimeout(timer);
    if (onReady) connection.off('ready', onReady);
  }
}
