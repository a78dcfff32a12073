import { createHash } from 'node:crypto';

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
  /** The host's email of that step: `apt-apt_123-confirmation-v1-host-email`. */
  hostMessage: (id: string, step: string, version: number) => `apt-${id}-${step}-v${version}-host-email`,
};

/** JSON with sorted keys: the same content always hashes the same, whatever the key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** Content hash of an event (its name and validated payload), 16 hex digits. */
export function eventHash(name: string, payload: unknown): string {
  return createHash('sha256').update(`${name}\n${stableJson(payload)}`).digest('hex').slice(0, 16);
}
