import type { Job } from 'bullmq';
import { z } from 'zod';
import { parsePayload } from '../contract/registry.js';
import { skipped, type Skipped } from '../contract/results.js';
import { messageRef, type MessageRef } from '../contract/schemas.js';
import { addressFor, fallbackChannels } from './channels.js';
import { NOT_REACHED, REACHED } from './delivery-reader.js';
import { followUpOptions, type AppointmentDeps } from './deps.js';
import { jobIds, type Channel } from './ids.js';
import { notifyAttendee } from './notify.js';
import { REMINDER_OFFSETS } from './reminders.js';
import type { StoredAppointment } from './store.js';
import { messageKeys, readSends, type MessageSend } from './view.js';

/*
 * Channel fallback (README "Channel fallback"). The outcome and delivery listeners only
 * add a `fallback` job to the `appointment` queue, one per send that ended badly (its id
 * comes from the send's); this processor decides from what is stored: the appointment
 * and the message's sends (their jobs, read by their deterministic ids, and their
 * delivery statuses). A fallback is itself a send with a deterministic id (the message's
 * id on the new channel), so however often a decision runs, a channel is used once.
 */

/** Why a send is reported as ended badly. */
const why = z.enum(['failed', 'skipped', 'delivery']);

export const fallbackPayload = z.object({
  ref: messageRef,
  /** The send that ended badly, and how (its job may not have left `active` yet). */
  trigger: z.object({ queue: z.enum(['email', 'sms', 'whatsapp']), jobId: z.string().min(1), why }),
});
export type FallbackData = z.infer<typeof fallbackPayload>;

export interface FallbackQueued {
  status: 'queued';
  appointmentId: string;
  kind: MessageRef['kind'];
  channel: Channel;
  jobId: string;
  fallbackOf: string;
}

/** How far a send got, for the fallback decision. */
export type SendStanding = 'reached' | 'on_its_way' | 'ended';

/** A `skipped` result whose reason is a channel not configured: the send could never go. */
export const notConfigured = (reason: string | null | undefined) => !!reason && /not configured/i.test(reason);

/**
 * "On its way" is anything that may still reach the attendee: a job waiting, delayed
 * (retrying), active, or completed as `sent` without a negative delivery status yet.
 * Ended: failed for good, skipped (not configured, or expired), or a negative status. The
 * send that triggered the decision counts as ended even while its job is still `active`
 * (its outcome is told before BullMQ moves it), and when a provider event said so (the
 * status may not be readable yet).
 */
export function standingOf(send: MessageSend, trigger: FallbackData['trigger']): SendStanding {
  const status = send.delivery?.status;
  if (status && REACHED.has(status)) return 'reached';
  if (status && NOT_REACHED.has(status)) return 'ended';
  if (send.jobId === trigger.jobId && send.queue === trigger.queue) {
    // Told by a provider event: ended, whatever the store said a moment before.
    if (trigger.why === 'delivery') return 'ended';
    // Told by its outcome: ended, unless someone retried the job since (dashboard, API).
    if (send.state === 'active') return 'ended';
  }
  if (send.state === 'failed') return 'ended';
  if (send.state === 'completed') return send.skippedReason !== null ? 'ended' : 'on_its_way';
  return 'on_its_way';
}

/** Why the message must not go out again now, if it must not (pure: tested on its own). */
export function whyNoFallback(s: StoredAppointment | undefined, ref: MessageRef, now: number): string | undefined {
  if (ref.recipient !== 'attendee') return 'messages to the host never fall back';
  if (!s?.appointment) return 'appointment not found: it expired or was never stored';
  if (s.version !== ref.version) return `moved: the message is for version ${ref.version}, the appointment is at version ${s.version}`;
  if (s.status === 'cancelled' && ref.kind !== 'cancelled') return 'cancelled';
  const at = Date.parse(s.appointment.scheduledAt);
  if (now >= at) return 'the appointment has started';
  // As when it fires (fire-reminder.ts): past the H-1 moment, a J-1 would only duplicate the H-1.
  if (ref.kind === 'J-1' && now >= at - REMINDER_OFFSETS['H-1']) return 'too late for J-1: the H-1 reminder is due';
  return undefined;
}

/** The next channel: the first of `fallbackChannels` the attendee can receive and the message has not used. */
export function nextChannel(s: StoredAppointment, used: ReadonlySet<Channel>): Channel | undefined {
  return fallbackChannels(s.appointment!).find((c) => !used.has(c) && addressFor(s.appointment!, c) !== undefined);
}

/** How long a decision waits for a sibling send caught between its outcome and BullMQ's move. */
const SETTLE_MS = 2_000;
const SETTLE_STEP_MS = 50;

export async function decideFallback(job: Job, deps: AppointmentDeps): Promise<FallbackQueued | Skipped> {
  const { ref, trigger } = parsePayload(fallbackPayload, job.data);
  const log = deps.logger.child({ appointmentId: ref.appointmentId, kind: ref.kind, version: ref.version, trigger: trigger.jobId });
  const stop = (reason: string) => {
    log.info({ reason }, 'no channel fallback');
    return skipped(reason);
  };
  const s = await deps.store.get(ref.appointmentId);
  const not = whyNoFallback(s, ref, deps.now());
  if (not) return stop(not);
  const channels = fallbackChannels(s!.appointment!);
  if (channels.length === 0) return stop('fallback turned off (fallbackChannels: [])');

  const keys = messageKeys({ appointmentId: ref.appointmentId, kind: ref.kind, version: ref.version, recipient: 'attendee' });
  const readDeps = { connection: deps.connection, redis: deps.config.redis, queue: deps.queue, delivery: deps.delivery };
  let sends = await readSends(readDeps, keys);
  // A sibling that failed at the same moment may still be `active` for a few ms after its own
  // outcome was told; its decision may likewise see ours active. Waiting for active
  // siblings to settle (briefly: a send truly in flight is on its way) keeps both from
  // deferring to each other.
  for (let waited = 0; waited < SETTLE_MS && sends.some((x) => x.state === 'active' && x.jobId !== trigger.jobId); waited += SETTLE_STEP_MS) {
    await new Promise((r) => setTimeout(r, SETTLE_STEP_MS));
    sends = await readSends(readDeps, keys);
  }
  const standings = sends.map((x) => ({ send: x, standing: standingOf(x, trigger) }));
  const reached = standings.find((x) => x.standing === 'reached');
  if (reached) return stop(`reached the attendee on ${reached.send.channel}`);
  const going = standings.find((x) => x.standing === 'on_its_way');
  if (going) return stop(`still on its way on ${going.send.channel} (${going.send.jobId})`);

  const used = new Set<Channel>(sends.map((x) => x.channel));
  used.add(trigger.queue);
  const next = nextChannel(s!, used);
  if (!next) return stop(`no channel left: used ${[...used].join(', ')}; fallbackChannels ${JSON.stringify(channels)}`);
  const n = await notifyAttendee(deps, s!, ref.kind, ref.kind, [next], trigger.jobId);
  const queued = n.queued[0]!;
  log.info({ channel: next, jobId: queued.jobId }, 'message falls back to another channel');
  return { status: 'queued', appointmentId: ref.appointmentId, kind: ref.kind, channel: next, jobId: queued.jobId, fallbackOf: trigger.jobId };
}

/** What a listener saw: enough to add the decision job. Host messages and others are ignored. */
export function fallbackTrigger(queue: string, jobId: string, data: unknown, how: FallbackData['trigger']['why']): FallbackData | undefined {
  if (queue !== 'email' && queue !== 'sms' && queue !== 'whatsapp') return undefined;
  const parsed = messageRef.safeParse((data as { ref?: unknown } | undefined)?.ref);
  if (!parsed.success || parsed.data.recipient !== 'attendee') return undefined;
  return { ref: parsed.data, trigger: { queue, jobId, why: how } };
}

/** Adds the decision job; its id is the send's, so a replayed outcome or a duplicate event adds nothing. */
export async function addFallbackDecision(deps: Pick<AppointmentDeps, 'config' | 'queue'>, data: FallbackData): Promise<string> {
  const id = jobIds.fallback(data.trigger.jobId);
  await deps.queue('appointment').add('fallback', data, followUpOptions(deps.config, id));
  return id;
}
