import type { RedisSettings } from '../config.js';
import type { RedisClient } from '../redis.js';

/** Where the delivery keys live: a connection and the settings that give their prefix. */
export interface DeliveryDb {
  connection: RedisClient;
  redis: RedisSettings;
}
