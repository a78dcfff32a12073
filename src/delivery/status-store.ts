import type { DeliveryStatus } from '../contract/outcome.js';
import type { DeliveryProvider } from '../contract/delivery.js';
import type { MessageQueue } from '../contract/queues.js';
import { key, type RedisClient } from '../redis.js';
import type { DeliveryDb } from './db.js';

/**
 * A message job's delivery status (README "Delivery status"), in two small keys beside
 * BullMQ's, both expiring with the job:
 * - `<prefix>:dlv:m:<provider>:<messageId>` -> `<queue>:<jobId>`: written once when the send
 *   succeeds, read by every provider event;
 * - `<prefix>:dlv:s:<queue>:<jobId>` -> the history, `status,atMs[,errorCode]|...`, the last
 *   entry being the current status. One string, not a hash or a list: the fewest bytes.
 */
export interface DeliveryView {
  status: DeliveryStatus;
  /** ISO 8601 of the current status. */
  at: string;
  errorCode?: string;
  history: { status: DeliveryStatus; at: string }[];
}

export type { DeliveryDb };

const messageKey = (db: DeliveryDb, provider: string, messageId: string) => key(db.redis, 'dlv', 'm', provider, messageId);
const statusKey = (db: DeliveryDb, queue: string, jobId: string) => key(db.redis, 'dlv', 's', queue, jobId);

/** The send succeeded: events naming `messageId` now find the job. */
export async function recordSend(db: DeliveryDb, provider: string, messageId: string, queue: MessageQueue, jobId: string, ttlSeconds: number): Promise<void> {
  await db.connection.set(messageKey(db, provider, messageId), `${queue}:${jobId}`, 'EX', ttlSeconds);
}

/** The job a provider's message id belongs to, if the send was recorded (and not expired). */
export async function findJob(db: DeliveryDb, provider: DeliveryProvider, messageId: string): Promise<{ queue: MessageQueue; jobId: string } | undefined> {
  const v = await db.connection.get(messageKey(db, provider, messageId));
  if (!v) return undefined;
  const i = v.indexOf(':');
  return { queue: v.slice(0, i) as MessageQueue, jobId: v.slice(i + 1) };
}

/**
 * Forward only, decided in Redis so concurrent workers cannot both move a message:
 * sent -> delayed -> delivered -> read, or to a negative status from before delivered;
 * bounced and complained may also follow delivered or read; a negative status is final.
 * The same event twice, or a late one, changes nothing. Returns 1 when the status moved.
 */
const APPLY = `
local cur = redis.call('GET', KEYS[1])
local new = ARGV[1]
local rank = {sent = 1, delayed = 2, delivered = 3, read = 4}
if cur then
  local last = string.match(string.match(cur, '[^|]*$'), '^[^,]*')
  local rf, rt = rank[last], rank[new]
  if rf == nil then return 0 end
  if rt ~= nil then
    if rt <= rf then return 0 end
  elseif rf >= 3 and new ~= 'bounced' and new ~= 'complained' then
    return 0
  end
  cur = cur .. '|' .. ARGV[2]
else
  cur = ARGV[2]
end
redis.call('SET', KEYS[1], cur, 'EX', ARGV[3])
return 1
`;

type WithApply = RedisClient & { deliveryApply(key: string, status: string, entry: string, ttl: number): Promise<number> };

function withApply(connection: RedisClient): WithApply {
  const c = connection as WithApply;
  // defineCommand sends EVALSHA and falls back to EVAL once per connection.
  if (typeof c.deliveryApply !== 'function') connection.defineCommand('deliveryApply', { numberOfKeys: 1, lua: APPLY });
  return c;
}

/** Keeps only what cannot break the encoding (`,` and `|` separate fields and entries). */
const clean = (code: string) => code.replace(/[|,]/g, '_');

/** Applies one status; true when it moved the message's status forward. */
export async function applyStatus(
  db: DeliveryDb,
  queue: MessageQueue,
  jobId: string,
  e: { status: DeliveryStatus; at: string; errorCode?: string },
  ttlSeconds: number,
): Promise<boolean> {
  const atMs = Date.parse(e.at);
  const entry = `${e.status},${Number.isNaN(atMs) ? Date.now() : atMs}${e.errorCode ? `,${clean(e.errorCode)}` : ''}`;
  return (await withApply(db.connection).deliveryApply(statusKey(db, queue, jobId), e.status, entry, ttlSeconds)) === 1;
}

/** Parses a stored history; null for none. */
export function parseDelivery(v: string | null): DeliveryView | null {
  if (!v) return null;
  const entries = v.split('|').map((s) => {
    const [status, at, errorCode] = s.split(',');
    return { status: status as DeliveryStatus, at: new Date(Number(at)).toISOString(), errorCode };
  });
  const last = entries[entries.length - 1]!;
  return {
    status: last.status,
    at: last.at,
    ...(last.errorCode && { errorCode: last.errorCode }),
    history: entries.map(({ status, at }) => ({ status, at })),
  };
}

/**
 * The delivery status of a message job, or null before any provider event (or for a job
 * that is not a message). Read-only: the HTTP server and the appointment timeline use it.
 */
export async function getDelivery(db: DeliveryDb, queue: string, jobId: string): Promise<DeliveryView | null> {
  return parseDelivery(await db.connection.get(statusKey(db, queue, jobId)));
}
