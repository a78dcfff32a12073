import type { TestProject } from 'vitest/node';
import { startTestRedis } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const redis = await startTestRedis();
  console.log(`test Redis: ${redis.kind} at ${redis.url}`);
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
