import { InvalidPayloadError } from '../contract/errors.js';
import { parsePayload } from '../contract/registry.js';
import { appointment, appointmentCancelled, type Appointment } from '../contract/schemas.js';
import { eventHash } from '../appointments/ids.js';
import { pendingReminders, type PendingReminder } from '../appointments/reminders.js';
import { AppointmentStore } from '../appointments/store.js';
import { noDelivery, type DeliveryReader } from '../appointments/delivery-reader.js';
import { appointmentTimeline, type Timeline } from '../appointments/view.js';
import type { Config } from '../config.js';
import type { QueueName } from '../contract/queues.js';
import type { Enqueued, NotificationClient } from './client.js';

export type { PendingReminder, Timeline };

export interface EventOptions {
  /** Overrides the content-derived key, e.g. to push the same move twice on purpose. */
  idempotencyKey?: string;
}

/**
 * `client.appointments`: the lifecycle events of CONTRACT §5. Each event's job id is
 * derived from its content, so the same event pushed twice is one job (and, within 24 h,
 * one idempotency mark); the worker also recognises a repeated booking by its content.
 */
export class AppointmentEvents {
  /** Where `get` reads messages' delivery statuses (the delivery status store, when there is one). */
  delivery: DeliveryReader = noDelivery;

  constructor(
    private readonly client: NotificationClient,
    private readonly redis: () => Config['redis'],
  ) {}

  /** The appointment was booked: meeting (if needed), confirmation, reminders follow. */
  async booked(apt: Appointment, opts: EventOptions = {}): Promise<Enqueued> {
    return this.push('booked', apt, opts);
  }

  /** The appointment moved: reminders replaced, meeting moved, attendee told. */
  async rescheduled(apt: Appointment, opts: EventOptions = {}): Promise<Enqueued> {
    return this.push('rescheduled', apt, opts);
  }

  /** The appointment was cancelled: reminders removed, meeting deleted, attendee told. */
  async cancelled(id: string, reason?: string, opts: EventOptions = {}): Promise<Enqueued> {
    const payload = parsePayload(appointmentCancelled, { id, ...(reason !== undefined && { reason }) });
    return this.client.enqueue('appointment', 'cancelled', payload, {
      idempotencyKey: opts.idempotencyKey ?? `cancelled-${payload.id}-${eventHash('cancelled', payload)}`,
    });
  }

  /** The pending reminders of the appointment's current version and when they fire. */
  async reminders(id: string): Promise<PendingReminder[]> {
    const store = new AppointmentStore(this.client.connection, this.redis());
    return this.client.withRedis(() => pendingReminders(this.client.queue('reminder'), store, id));
  }

  /**
   * The appointment's timeline (README "Appointment timeline"): its latest state, meeting,
   * pending reminders and every message with its job state and delivery status;
   * undefined for an unknown or expired appointment.
   */
  async get(id: string): Promise<Timeline | undefined> {
    const deps = { connection: this.client.connection, redis: this.redis(), queue: (n: QueueName) => this.client.queue(n), delivery: this.delivery };
    return this.client.withRedis(() => appointmentTimeline(deps, id));
  }

  private async push(name: 'booked' | 'rescheduled', apt: Appointment, opts: EventOptions): Promise<Enqueued> {
    const payload = parsePayload(appointment, apt);
    // The worker checks this too; failing here tells the caller at once.
    if (Date.parse(payload.scheduledAt) <= Date.now())
      throw new InvalidPayloadError([{ path: 'scheduledAt', message: 'must be in the future' }]);
    return this.client.enqueue('appointment', name, payload, {
      idempotencyKey: opts.idempotencyKey ?? `${name}-${payload.id}-${eventHash('appointment', payload)}`,
    });
  }
}
