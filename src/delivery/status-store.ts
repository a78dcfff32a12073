import type { DeliveryStatus, DeliveryView } from '../contract/outcome.js';
import type { DeliveryProvider } from '../contract/delivery.js';
import type { MessageQueue } from '../contract/queues.js';
import { key, scriptCommand } from '../redis.js';
import type { DeliveryDb } from './db.js';

/**
 * A message job's delivery status (README "Delivery status"), in ONE small key beside
 * BullMQ's, written when the send succeeds and expiring with the job:
 *   `<prefix>:dlv:<provider>:<messageId>` -> `<queue>:<jobId>[:r]` then `|status,at[,errorCode]` per move
 * (`at` in base-36 ms), the last entry being the current status; `:r` says the job carries a
 * `ref` (an appointment message), so that only those jobs are read when a status moves.
 * BullMQ job ids never contain ':'. Provider events name the
 * message id, so applying one is a single script call on a single key; the rarer reads by
 * job (API, timeline) find the message id in the job's own return value first.
 */
export type { DeliveryView };

export type { DeliveryDb };

const messageKey = (db: DeliveryDb, provider: string, messageId: string) => key(db.redis, 'dlv', provider, messageId);

/** The send succeeded: events naming `messageId` now find the job. */
export async function recordSend(
  db: DeliveryDb,
  provider: string,
  messageId: string,
  queue: MessageQueue,
  jobId: string,
  ttlSeconds: number,
  hasRef = false,
): Promise<void> {
  // NX: a re-run of the job (stalled, replayed) must not wipe statuses already applied.
  await db.connection.set(messageKey(db, provider, messageId), `${queue}:${jobId}${hasRef ? ':r' : ''}`, 'EX', ttlSeconds, 'NX');
}

/**
 * Forward only, decided in Redis so concurrent workers cannot both move a message:
 * sent -> delayed -> delivered -> read, or to a negative status from before delivered;
 * bounced and complained may also follow delivered or read; a negative status is final.
 * The same event twice, or a late one, changes nothing. Applies KEYS[i] <- (ARGV[2i-1]
 * status, ARGV[2i] entry) in order, so two events for one message in one call follow each
 * other; answers per event {moved 1|0, "<queue>:<jobId>"} (2 instead of 0 when this very
 * event, same status, time and code, is already in the history: a re-run of the job that
 * applied it), or {-1, ""} for an unknown message id (one call for a whole batch: no
 * per-event script call).
 */
const APPLY = `
local rank = {sent = 1, delayed = 2, delivered = 3, read = 4}
local out = {}
for i = 1, #KEYS do
  local new = ARGV[2 * i - 1]
  local cur = redis.call('GET', KEYS[i])
  local moved, job = -1, ''
  if cur then
    job = string.match(cur, '^[^|]*')
    moved = 1
    if string.find(cur, '|', 1, true) then
      local last = string.match(string.match(cur, '[^|]*$'), '^[^,]*')
      local rf, rt = rank[last], rank[new]
      if rf == nil then
        moved = 0
      elseif rt ~= nil then
        if rt <= rf then moved = 0 end
      elseif rf >= 3 and new ~= 'bounced' and new ~= 'complained' then
        moved = 0
      end
    end
    if moved == 1 then
      redis.call('SET', KEYS[i], cur .. '|' .. ARGV[2 * i], 'KEEPTTL')
    elseif string.find(cur .. '|', '|' .. ARGV[2 * i] .. '|', 1, true) then
      moved = 2
    end
  end
  out[2 * i - 1] = moved
  out[2 * i] = job
end
return out
`;

type Apply = { deliveryApply(numberOfKeys: number, ...keysThenArgs: string[]): Promise<(number | string)[]> };

/** Keeps only what cannot break the encoding (`,` and `|` separate fields and entries). */
const clean = (code: string) => code.replace(/[|,]/g, '_');

/** `again`: not moved now, because this very event was applied before (by a run that may have died before telling). */
export type Applied = { found: false } | { found: true; moved: boolean; again: boolean; queue: MessageQueue; jobId: string; hasRef: boolean };

export interface StatusInput {
  provider: DeliveryProvider;
  messageId: string;
  status: DeliveryStatus;
  at: string;
  errorCode?: string;
}

const entryOf = (e: StatusInput) => {
  const atMs = Date.parse(e.at);
  return `${e.status},${(Number.isNaN(atMs) ? Date.now() : atMs).toString(36)}${e.errorCode ? `,${clean(e.errorCode)}` : ''}`;
};

function applied(moved: number, job: string): Applied {
  if (moved < 0) return { found: false };
  const [queue, jobId, flag] = job.split(':');
  return { found: true, moved: moved === 1, again: moved === 2, queue: queue as MessageQueue, jobId: jobId!, hasRef: flag === 'r' };
}

/** Applies one status event to the message it names: unknown, or moved (or not) forward. */
export async function applyStatus(db: DeliveryDb, e: StatusInput): Promise<Applied> {
  return (await applyStatuses(db, [e]))[0]!;
}

/** Events per script call: a SendGrid batch may hold thousands; Redis runs each call whole. */
const APPLY_CHUNK = 500;

/**
 * Applies events in their order, one script call per APPLY_CHUNK events (on a Cluster
 * every key shares the prefix's slot).
 */
export async function applyStatuses(db: DeliveryDb, events: readonly StatusInput[]): Promise<Applied[]> {
  const out: Applied[] = [];
  for (let start = 0; start < events.length; start += APPLY_CHUNK) {
    const chunk = events.slice(start, start + APPLY_CHUNK);
    const args = new Array<string>(chunk.length * 3);
    chunk.forEach((e, i) => {
      args[i] = messageKey(db, e.provider, e.messageId);
      args[chunk.length + 2 * i] = e.status;
      args[chunk.length + 2 * i + 1] = entryOf(e);
    });
    const r = await scriptCommand<Apply>(db.connection, 'deliveryApply', APPLY).deliveryApply(chunk.length, ...args);
    for (let i = 0; i < chunk.length; i++) out.push(applied(Number(r[2 * i]), String(r[2 * i + 1])));
  }
  return out;
}

/**
 * Events dropped for a message id never recorded, per provider: a counter in Redis, since
 * the workers that drop them and the server that serves /metrics are other processes.
 */
const droppedKey = (db: DeliveryDb) => key(db.redis, 'dlv-dropped');

export async function countDropped(db: DeliveryDb, provider: string, n: number): Promise<void> {
  await db.connection.hincrby(droppedKey(db), provider, n);
}

export async function droppedCounts(db: DeliveryDb): Promise<Record<string, number>> {
  const raw = await db.connection.hgetall(droppedKey(db));
  return Object.fromEntries(Object.entries(raw).map(([provider, n]) => [provider, Number(n)]));
}

/** Parses a stored value; null before any event. */
export function parseDelivery(v: string | null): DeliveryView | null {
  const parts = v?.split('|').slice(1) ?? [];
  if (parts.length === 0) return null;
  const entries = parts.map((s) => {
    const [status, at, errorCode] = s.split(',');
    return { status: status as DeliveryStatus, at: new Date(parseInt(at!, 36)).toISOString(), errorCode };
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
 * that is not a sent message). Read-only: the HTTP server and the appointment timeline
 * use it. Two reads: the message id from the job's return value, then its key.
 */
export async function getDelivery(db: DeliveryDb, queue: string, jobId: string): Promise<DeliveryView | null> {
  const raw = await db.connection.hget(key(db.redis, queue, jobId), 'returnvalue');
  let sent: { status?: unknown; provider?: unknown; messageId?: unknown } | undefined;
  try {
    sent = raw ? JSON.parse(raw) : undefined;
  } catch {
    return null;
  }
  if (sent?.status !== 'sent' || typeof sent.provider !== 'string' || typeof sent.messageId !== 'string') return null;
  const v = await db.connection.get(messageKey(db, sent.provider, sent.messageId));
  return v?.startsWith(`${queue}:${jobId}|`) || v?.startsWith(`${queue}:${jobId}:r|`) ? parseDelivery(v) : null;
}
