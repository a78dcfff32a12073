// The package's public surface: the producer client, the job contracts and their types.
export {
  NotificationClient,
  createClient,
  RedisUnavailableError,
  ValidationError,
  type ClientOptions,
  type Enqueued,
  type SendOptions,
} from './producer/client.js';
export * from './jobs/schemas.js';
export type * from './jobs/results.js';
export { ERROR_CODES, type ErrorCode } from './errors.js';
export { QUEUES, type QueueName } from './queues.js';
