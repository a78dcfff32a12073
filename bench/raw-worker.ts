/**
 * The baseline worker process for the RSS figure: a bare BullMQ Worker calling the fake
 * Twilio with fetch, configured from the same variables as `npm run worker -- sms`.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { rawProcessor } from './raw.js';

const env = process.env;
const connection = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null });
const worker = new Worker(
  'sms',
  rawProcessor(
    { twilioUrl: env.TWILIO_API_BASE_URL!, twilioSid: env.TWILIO_ACCOUNT_SID!, twilioToken: env.TWILIO_AUTH_TOKEN!, resendUrl: '', resendKey: '' },
    'sms',
  ),
  { connection, prefix: env.QUEUE_PREFIX, concurrency: Number(env.SMS_CONCURRENCY ?? 10), removeOnComplete: { age: 86_400 }, removeOnFail: { age: 604_800 } },
);
await worker.waitUntilReady();
console.log('workers started');
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
