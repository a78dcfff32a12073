// The package's public surface: the producer client, the job contracts and their types.
export {
  NotificationClient,
  createClient,
  RedisUnavailableError,
  IdempotencyKeyReusedError,
  ValidationError,
  type ClientOptions,
  type Enqueued,
  type SendOptions,
  type BulkItem,
  type MessagePayloads,
} from './producer/client.js';
export * from './contract/schemas.js';
export type * from './contract/results.js';
export { ERROR_CODES, type ErrorCode } from './contract/errors.js';
export { QUEUES, type QueueName } from './contract/queues.js';
export { verifySignature, signPayload, SIGNATURE_HEADER, type VerifyOptions } from './webhooks/sign.js';
export { EVENT_TYPES, type EventType, type WebhookEvent } from './webhooks/events.js';
export { ResultTimeoutError } from './producer/results.js';
export type { EnqueuedJob } from './producer/client.js';
export type { AppointmentEvents, EventOptions as AppointmentEventOptions, PendingReminder } from './producer/appointments.js';
