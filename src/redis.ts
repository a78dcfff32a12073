import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';

export type RedisClient = Redis | Cluster;

/**
 * Workers block on Redis and must never give up on a command (BullMQ requires
 * maxRetriesPerRequest: null); producers must fail fast when Redis is away, so they
 * disable the offline queue instead of piling up commands that hang.
 */
export type ConnectionRole = 'worker' | 'producer';

const roleOptions = (role: ConnectionRole): RedisOptions =>
  role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };

const backoff = (times: number) => Math.min(times * 200, 5_000);

export function createRedis(redis: Config['redis'], role: ConnectionRole): RedisClient {
  const common: RedisOptions = { ...roleOptions(role), retryStrategy: backoff, lazyConnect: false };
  if (redis.clusterNodes) {
    const nodes = redis.clusterNodes.map((n) => {
      const [host, port] = n.split(':');
      return { host: host ?? '127.0.0.1', port: Number(port ?? 6379) };
    });
    return new Cluster(nodes, {
      redisOptions: common,
      clusterRetryStrategy: backoff,
      enableOfflineQueue: role === 'worker',
    });
  }
  return new Redis(redis.url, common);
}

/** BullMQ keys on a cluster must share a slot: a hash-tagged prefix does it. */
export function queuePrefix(redis: Config['redis']): string {
  return redis.clusterNodes && !redis.prefix.startsWith('{') ? `{${redis.prefix}}` : redis.prefix;
}

/** Our own keys (idempotency, delivery markers, stored appointments) live beside BullMQ's. */
export function key(redis: Config['redis'], ...parts: string[]): string {
  return [queuePrefix(redis), ...parts].join(':');
}
