import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Env } from '../../src/config.js';

/** A unique prefix per test: tests share one Redis and never flush it. */
export const uniquePrefix = (label = 't') => `${label}-${randomUUID().slice(0, 8)}`;

/** Environment for a test: the run's Redis, a unique prefix, quiet logs, fast retries. */
export function testEnv(overrides: Env = {}): Env {
  return {
    NODE_ENV: 'test',
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: uniquePrefix(),
    LOG_LEVEL: 'silent',
    JOB_BACKOFF_MS: '50',
    EMAIL_RATE_LIMIT: 'off',
    SMS_RATE_LIMIT: 'off',
    WHATSAPP_RATE_LIMIT: 'off',
    MEETING_RATE_LIMIT: 'off',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...overrides,
  };
}

export const testConfig = (overrides: Env = {}) => loadConfig(testEnv(overrides));
