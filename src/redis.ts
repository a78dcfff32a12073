import { Redis, Cluster, type RedisOptions } from 'ioredis';
import { hostPort, type Config } from './config.js';

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
    const nodes = redis.clusterNodes.map((n) => hostPort(n, 6379));
    const auth = credentials(redis.url);
    // A producer fails fast at the cluster level only. ioredis's cluster ready check sends
    // CLUSTER INFO through the cluster client itself, before the node connections are up:
    // with the offline queue off it is refused and the client closes and starts over, at
    // every producer start (often for seconds). So producers skip that check, and node
    // connections keep their own queue so the first commands wait for the socket.
    const { enableOfflineQueue: _clusterLevelOnly, ...nodeOptions } = common;
    return new Cluster(nodes, {
      redisOptions: { ...nodeOptions, ...auth },
      clusterRetryStrategy: backoff,
      enableOfflineQueue: role === 'worker',
      enableReadyCheck: role === 'worker',
      // Managed TLS clusters (e.g. ElastiCache) present certificates for the seed's name, not the node IPs.
      ...(auth.tls && { dnsLookup: (address: string, cb: (err: Error | null, address: string) => void) => cb(null, address) }),
    });
  }
  if (redis.sentinels) {
    // The Sentinels name the current master (and the new one after a failover); REDIS_URL
    // still supplies the password, database and TLS (rediss://) of the master connection.
    const sentinels = redis.sentinels.nodes.map((n) => hostPort(n, 26379));
    return new Redis(redis.url, {
      ...common,
      sentinels,
      name: redis.sentinels.name,
      sentinelRetryStrategy: backoff,
      enableTLSForSentinelMode: redis.url.startsWith('rediss:'),
    });
  }
  return new Redis(redis.url, common);
}

/** User, password and TLS of REDIS_URL, for cluster nodes (which take no URL). */
function credentials(url: string): RedisOptions {
  const u = new URL(url);
  return {
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.protocol === 'rediss:' && { tls: {} }),
  };
}

/** BullMQ keys on a cluster must share a slot: a hash-tagged prefix does it. */
export function queuePrefix(redis: Config['redis']): string {
  return redis.clusterNodes && !redis.prefix.startsWith('{') ? `{${redis.prefix}}` : redis.prefix;
}

/** Our own keys (idempotency, delivery markers, stored appointments) live beside BullMQ's. */
export function key(redis: Config['redis'], ...parts: string[]): string {
  return [queuePrefix(redis), ...parts].join(':');
}

/**
 * Redis being away (refused, unreachable, closed, or a producer's fail-fast refusal), as
 * opposed to Redis answering with an error. Workers say it once per outage; producers turn
 * it into RedisUnavailableError.
 */
export function isConnectionError(err: unknown): boolean {
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|Connection is closed|Stream isn't writeable|enableOfflineQueue|Reached the max retries/i.test(
    (err as Error)?.message ?? '',
  );
}

/**
 * A Lua script as a command of `connection`, defined on first use: ioredis then sends
 * EVALSHA, and EVAL once per connection when Redis does not know the script yet.
 * `numberOfKeys` omitted: the caller passes the key count first.
 */
export function scriptCommand<C>(connection: RedisClient, name: string, lua: string, numberOfKeys?: number): RedisClient & C {
  if (typeof (connection as unknown as Record<string, unknown>)[name] !== 'function')
    connection.defineCommand(name, { lua, ...(numberOfKeys !== undefined && { numberOfKeys }) });
  return connection as RedisClient & C;
}
