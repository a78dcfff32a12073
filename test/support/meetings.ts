import type { Env } from '../../src/config.js';
import { NotificationClient } from '../../src/producer/client.js';
import type { QueueName } from '../../src/contract/queues.js';
import type { ServiceContext } from '../../src/runtime/types.js';
import { createService, startWorkers, type RunningWorkers } from '../../src/service.js';
import type { FakeGoogle } from '../fakes/google.js';
import type { FakeZoom } from '../fakes/zoom.js';
import { testConfig } from './config.js';

export interface Service {
  config: ReturnType<typeof testConfig>;
  ctx: ServiceContext;
  running: RunningWorkers;
  client: NotificationClient;
  close(): Promise<void>;
}

/** Real BullMQ workers in this process, on the test Redis, plus a producer client. */
export function startService(env: Env, queues: QueueName[] = ['meeting']): Service {
  const config = testConfig(env);
  const rt = createService(config);
  const running = startWorkers(rt, queues);
  const ctx = rt.ctx;
  const client = NotificationClient.fromConfig(config);
  return {
    config,
    ctx,
    running,
    client,
    close: async () => {
      await client.close();
      await running.close();
    },
  };
}

export const zoomEnv = (fake: FakeZoom): Env => ({
  ZOOM_API_KEY: fake.clientId,
  ZOOM_API_SECRET: fake.clientSecret,
  ZOOM_ACCOUNT_ID: fake.accountId,
  ZOOM_API_BASE_URL: `${fake.url}/v2`,
  ZOOM_OAUTH_BASE_URL: fake.url,
});

export const googleEnv = (fake: FakeGoogle): Env => ({
  GOOGLE_CLIENT_ID: fake.clientId,
  GOOGLE_CLIENT_SECRET: fake.clientSecret,
  GOOGLE_REFRESH_TOKEN: fake.refreshToken,
  GOOGLE_API_BASE_URL: `${fake.url}/`,
  GOOGLE_OAUTH_TOKEN_URL: `${fake.url}/token`,
});

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A scheduled time a day ahead, whole seconds, UTC. */
export const tomorrow = (hour = 10) => {
  const d = new Date(Date.now() + 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString().replace('.000Z', 'Z');
};
