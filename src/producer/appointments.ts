import { validateIdempotencyKey, dedupFor } from './idempotency.js';
import { assertAhead, parsePayload } from '../contract/registry.js';
import { appointment, appointmentCancelled, type Appointment } from '../contract/schemas.js';
import { eventHash } from '../contract/stable-json.js';
import type { QueueName } from '../contract/queues.js';
import { AppointmentStore, appointmentTimeline, pendingReminders, type DeliveryReader, type PendingReminder, type Timeline } from '../appointments/view.js';
import { deliveryReader } from '../delivery/view.js';
import type { AddOptions, Enqueued, Enqueuer } from './types.js';

export type { PendingReminder, Timeline };

export interface EventOptions {
  /** Overrides the content-derived key, e.g. to push the same move twice on purpose. */
  idempotencyKey?: string;
}

/**
 * `client.appointments`: the lifecycle events (README "Appointment lifecycle"). Each
 * event's job id is derived from its content, so the same event pushed twice within 24 h
 * is one job; the worker also recognises a repeated booking by its content.
 */
export class AppointmentEvents {
  /** Where `get` reads messages' delivery statuses: the delivery feature's store in Redis. */
  delivery: DeliveryReader;

  constructor(private readonly client: Enqueuer) {
    this.delivery = deliveryReader({ connection: client.connection, redis: client.redis });
  }

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
    return this.client.add('appointment', 'cancelled', payload, this.dedup('cancelled', payload, payload.id, opts));
  }

  /** The pending reminders of the appointment's current version and when they fire. */
  async reminders(id: string): Promise<PendingReminder[]> {
    // Checked before the id names a Redis key (`apt_x:events` would read another one).
    parsePayload(appointmentCancelled.pick({ id: true }), { id });
    const store = new AppointmentStore(this.client.connection, this.client.redis);
    return this.client.withRedis(() => pendingReminders(this.client.queue('reminder'), store, id));
  }

  /**
   * The appointment's timeline (README "Appointment timeline"): its latest state, meeting,
   * pending reminders and every message with its job state and delivery status;
   * undefined for an unknown or expired appointment.
   */
  async get(id: string): Promise<Timeline | undefined> {
    parsePayload(appointmentCancelled.pick({ id: true }), { id });
    const deps = { connection: this.client.connection, redis: this.client.redis, queue: (n: QueueName) => this.client.queue(n), delivery: this.delivery };
    return this.client.withRedis(() => appointmentTimeline(deps, id));
  }

  private async push(name: 'booked' | 'rescheduled', apt: Appointment, opts: EventOptions): Promise<Enqueued> {
    const payload = parsePayload(appointment, apt);
    // The worker checks this too; failing here tells the caller at once.
    assertAhead(payload.scheduledAt, Date.now());
    return this.client.add('appointment', name, payload, this.dedup(name, payload, payload.id, opts));
  }

  /**
   * A caller's key gives a derived id, like any idempotency key; without one the id starts
   * `<event>-<appointment id>-<content hash>`, readable by ops, safe since the appointment id
   * is (letters, digits, `_.-`).
   */
  private dedup(name: string, payload: unknown, id: string, opts: EventOptions): AddOptions {
    if (opts.idempotencyKey !== undefined) {
      validateIdempotencyKey(opts.idempotencyKey);
      return { dedup: dedupFor(opts.idempotencyKey, name, payload) };
    }
    const key = `${name}-${id}-${eventHash(name === 'cancelled' ? 'cancelled' : 'appointment', payload)}`;
    return { dedup: { id: key, prefix: key } };
  }
}
