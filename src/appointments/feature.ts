import { FlowProducer } from 'bullmq';
import { queuePrefix } from '../redis.js';
import { handleAppointmentEvent } from './lifecycle.js';
import { confirmBooking } from './confirm.js';
import { fireReminder } from './fire-reminder.js';
import { decideFallback } from './fallback.js';
import { fallbackOnDelivery, fallbackOnOutcome } from './fallback-listeners.js';
import { noDelivery, type DeliveryReader } from './delivery-reader.js';
import { expectName } from '../contract/registry.js';
import type { Feature, QueueHandler, ServiceContext } from '../runtime/types.js';
import type { AppointmentDeps } from './deps.js';
import { MeetingStore } from '../meetings/store.js';
import { Reminders } from './reminders.js';
import { AppointmentStore } from './store.js';

export interface AppointmentOptions {
  /** The clock reminders are checked against; tests move it to play "workers were down". */
  now?: () => number;
  /** Delivery statuses for channel fallback (the delivery status store); none by default. */
  delivery?: (ctx: ServiceContext) => DeliveryReader;
}

export function appointmentDeps(ctx: ServiceContext, opts: AppointmentOptions = {}): AppointmentDeps {
  const store = new AppointmentStore(ctx.connection, ctx.config.redis);
  let flow: FlowProducer | undefined;
  return {
    config: ctx.config,
    store,
    meetings: new MeetingStore(ctx.connection, ctx.config.redis),
    reminders: new Reminders(() => ctx.queue('reminder'), ctx.connection, store),
    queue: ctx.queue,
    flow: () => {
      if (!flow) {
        // Shares the process's Redis client, which is closed with the process.
        flow = new FlowProducer({ connection: ctx.connection, prefix: queuePrefix(ctx.config.redis) });
        flow.on('error', () => {}); // connection errors surface through the shared client's own handler
      }
      return flow;
    },
    now: opts.now ?? Date.now,
    logger: ctx.logger.child({ module: 'appointments' }),
    connection: ctx.connection,
    delivery: opts.delivery?.(ctx) ?? noDelivery,
  };
}

/** The `appointment` queue (events, and the internal `confirm` and `fallback` steps) and the `reminder` queue. */
export function appointmentHandlers(ctx: ServiceContext, opts: AppointmentOptions = {}): QueueHandler[] {
  const deps = appointmentDeps(ctx, opts);
  return [
    {
      queue: 'appointment',
      provider: () => 'appointments',
      run: (job) => {
        expectName(job, 'booked', 'rescheduled', 'cancelled', 'confirm', 'fallback');
        if (job.name === 'fallback') return decideFallback(job, deps);
        return job.name === 'confirm' ? confirmBooking(job, deps) : handleAppointmentEvent(job, deps);
      },
    },
    {
      queue: 'reminder',
      provider: () => 'appointments',
      run: (job) => {
        expectName(job, 'J-1', 'H-1');
        return fireReminder(job, deps);
      },
    },
  ];
}

/**
 * Appointment events, confirmations, reminders and channel fallback (its listeners hear
 * message outcomes and delivery changes in every process); `appointmentsFeature({now})` for tests.
 */
export const appointmentsFeature = (opts: AppointmentOptions = {}): Feature => ({
  name: 'appointments',
  handlers: (ctx) => appointmentHandlers(ctx, opts),
  listeners: (ctx) => [fallbackOnOutcome(ctx)],
  deliveryListeners: (ctx) => [fallbackOnDelivery(ctx)],
});
export const appointments = appointmentsFeature();
