import { Job, type JobState, type Queue } from 'bullmq';
import type { Config } from '../config.js';
import { MESSAGE_KINDS, type Appointment } from '../contract/schemas.js';
import type { RedisClient } from '../redis.js';
import { noDelivery, type DeliveryReader, type DeliveryView, type MessageQueue } from './delivery-reader.js';
import { messageJobId, type Channel, type MessageKind, type Recipient } from './ids.js';
import { pendingReminders, type PendingReminder } from './reminders.js';
import { AppointmentStore, type MeetingInfo } from './store.js';

/*
 * The read side of appointments: what the HTTP API, the producer client and the fallback
 * step show or decide from. Reads only (jobs, the stored appointment, delivery statuses),
 * and imports no worker-side code, so the server and the producer may use it.
 */

export const CHANNELS: readonly Channel[] = ['email', 'sms', 'whatsapp'];
const RECIPIENTS: readonly Recipient[] = ['attendee', 'host'];

/** One message to find: (appointment, kind, version, recipient) on one channel. */
export interface SendKey {
  appointmentId: string;
  kind: MessageKind;
  version: number;
  recipient: Recipient;
  channel: Channel;
}

/** One send of a message, as the timeline shows it and channel fallback judges it. */
export interface MessageSend {
  kind: MessageKind;
  version: number;
  channel: Channel;
  queue: MessageQueue;
  jobId: string;
  recipient: Recipient;
  state: JobState | 'unknown';
  messageId: string | null;
  failedReason: string | null;
  /** A completed job that sent nothing (`{status: "skipped"}`): why. */
  skippedReason: string | null;
  delivery: Pick<DeliveryView, 'status' | 'at' | 'errorCode'> | null;
  fallbackOf: string | null;
  /** When the job was added (ms): the timeline's order. */
  addedAt: number;
}

export interface ReadDeps {
  connection: RedisClient;
  redis: Config['redis'];
  queue(name: MessageQueue | 'reminder'): Queue;
  delivery?: DeliveryReader;
}

/**
 * The sends among `keys` that exist, read in one pipelined round trip (a missing job costs
 * one empty HGETALL), then the states of those not finished, concurrently.
 */
export async function readSends(deps: ReadDeps, keys: readonly SendKey[]): Promise<MessageSend[]> {
  if (keys.length === 0) return [];
  const ids = keys.map((k) => messageJobId(k, k.channel));
  const pipe = deps.connection.pipeline();
  keys.forEach((k, i) => pipe.hgetall(deps.queue(k.channel).toKey(ids[i]!)));
  const raws = (await pipe.exec()) ?? [];
  const delivery = deps.delivery ?? noDelivery;
  const found = keys
    .map((k, i) => ({ k, id: ids[i]!, raw: raws[i]?.[1] as Record<string, string> | undefined }))
    .filter((f) => f.raw && f.raw.data !== undefined);
  return Promise.all(
    found.map(async ({ k, id, raw }): Promise<MessageSend> => {
      const queue = deps.queue(k.channel);
      const job = Job.fromJSON(queue, raw as never, id);
      const [state, d] = await Promise.all([stateOf(job, raw!), delivery.get(k.channel, id)]);
      const result = (job.returnvalue ?? null) as { status?: string; messageId?: string; reason?: string } | null;
      const ref = (job.data as { ref?: { fallbackOf?: string } } | undefined)?.ref;
      return {
        kind: k.kind,
        version: k.version,
        channel: k.channel,
        queue: k.channel,
        jobId: id,
        recipient: k.recipient,
        state,
        messageId: result?.messageId ?? null,
        failedReason: job.failedReason || null,
        skippedReason: result?.status === 'skipped' ? String(result.reason ?? '') : null,
        delivery: d ? { status: d.status, at: d.at, ...(d.errorCode !== undefined && { errorCode: d.errorCode }) } : null,
        fallbackOf: ref?.fallbackOf ?? null,
        addedAt: job.timestamp,
      };
    }),
  );
}

/**
 * A finished job's state is in its hash (BullMQ writes `finishedOn` when it moves a job to
 * completed or failed, with `returnvalue` only for completed, and deletes both on a retry):
 * only unfinished jobs cost a state lookup.
 */
function stateOf(job: Job, raw: Record<string, string>): Promise<JobState | 'unknown'> {
  if (raw.finishedOn) return Promise.resolve(raw.returnvalue !== undefined ? 'completed' : 'failed');
  return job.getState();
}

/** Every send key of one message (every channel). */
export function messageKeys(m: Omit<SendKey, 'channel'>): SendKey[] {
  return CHANNELS.map((channel) => ({ ...m, channel }));
}

export interface Timeline {
  id: string;
  status: 'booked' | 'cancelled';
  version: number;
  appointment: Appointment;
  meeting: MeetingInfo | null;
  reminders: PendingReminder[];
  messages: Omit<MessageSend, 'addedAt'>[];
}

/**
 * README "Appointment timeline". Messages are found by their deterministic ids: every
 * version, kind, recipient and channel (30 per version), fetched in one pipelined batch.
 * No index is written on the send path, and nothing new has to expire with the
 * appointment: a message is listed exactly as long as its job is kept.
 */
export async function appointmentTimeline(deps: ReadDeps, id: string): Promise<Timeline | undefined> {
  const store = new AppointmentStore(deps.connection, deps.redis);
  const s = await store.get(id);
  if (!s?.appointment) return undefined; // unknown, expired, or only a cancellation of an unknown id
  const keys: SendKey[] = [];
  for (let version = 1; version <= s.version; version++)
    for (const kind of MESSAGE_KINDS)
      for (const recipient of RECIPIENTS) keys.push(...messageKeys({ appointmentId: id, kind, version, recipient }));
  const [sends, reminders] = await Promise.all([readSends(deps, keys), pendingReminders(deps.queue('reminder'), store, id)]);
  return {
    id,
    status: s.status === 'cancelled' ? 'cancelled' : 'booked',
    version: s.version,
    appointment: s.appointment,
    meeting: s.meeting ?? null,
    reminders,
    messages: sends.sort((a, b) => a.addedAt - b.addedAt).map(({ addedAt: _, ...m }) => m),
  };
}

export { pendingReminders, type PendingReminder } from './reminders.js';
export { AppointmentStore } from './store.js';
export { noDelivery, type DeliveryReader } from './delivery-reader.js';
