import type { MessageRef } from '../contract/schemas.js';

/**
 * Every job derived from an appointment has an id computed from the appointment id, the
 * step and the appointment's version: replaying an event re-adds the same ids, which
 * BullMQ ignores, so nothing is sent or created twice. BullMQ ids may not contain ':'
 * and must not be integers; appointment ids are [A-Za-z0-9_.-] (see the schema).
 */
export type ReminderName = 'J-1' | 'H-1';
export type Channel = 'email' | 'sms' | 'whatsapp';

export const jobIds = {
  /** In the `reminder` queue: `apt_123-J-1-v3`, so ops find an appointment's reminders by its id. */
  reminder: (id: string, name: ReminderName, version: number) => `${id}-${name}-v${version}`,
  /** The `appointment`-queue parent job that waits for the meeting, then confirms. */
  confirm: (id: string, version: number) => `apt-${id}-confirm-v${version}`,
  meetingCreate: (id: string, version: number) => `apt-${id}-meeting-create-v${version}`,
  meetingUpdate: (id: string, version: number) => `apt-${id}-meeting-update-v${version}`,
  meetingDelete: (id: string, version: number) => `apt-${id}-meeting-delete-v${version}`,
  /** A message in a channel queue: `apt-apt_123-confirmation-v1-email`, `apt-apt_123-J-1-v3-sms`. */
  message: (id: string, step: string, version: number, channel: Channel) => `apt-${id}-${step}-v${version}-${channel}`,
  /**
   * The `appointment`-queue job that decides a message's channel fallback after one of its
   * sends ended badly: one per send, so a replayed outcome or a duplicate delivery event of
   * that send adds nothing.
   */
  fallback: (sendJobId: string) => `${sendJobId}-fallback`,
};

export type MessageKind = MessageRef['kind'];
export type Recipient = MessageRef['recipient'];

/**
 * The id of a message's send on one channel. The attendee's is `jobIds.message` with the
 * kind as step (a fallback on another channel gets that channel's id: a message goes at
 * most once per channel); the host's carries `host-` before the kind.
 */
export function messageJobId(m: { appointmentId: string; kind: MessageKind; version: number; recipient: Recipient }, channel: Channel): string {
  return jobIds.message(m.appointmentId, m.recipient === 'host' ? `host-${m.kind}` : m.kind, m.version, channel);
}
