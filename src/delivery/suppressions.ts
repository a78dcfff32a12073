import { SUPPRESSION_CHANNELS, type SuppressionChannel, type SuppressionReason } from '../contract/delivery.js';
import { key, type RedisClient } from '../redis.js';
import type { DeliveryDb } from './db.js';

/**
 * The suppression list (README "Suppression list"): one Redis hash per channel,
 * `<prefix>:suppr:<channel>`, recipient -> `<reason>|<since ISO>`, with no TTL. The prefix
 * is hash-tagged on a Cluster like every key of ours, so the whole list sits in one slot.
 * Read-only users (the HTTP API) and writers (provider events, sends) share this module.
 */
export interface Suppression {
  channel: SuppressionChannel;
  recipient: string;
  reason: SuppressionReason;
  since: string;
}

const listKey = (db: DeliveryDb, channel: SuppressionChannel) => key(db.redis, 'suppr', channel);

const E164 = /^\+[1-9]\d{6,14}$/;

/** E.164 without `whatsapp:` for phones, lower case for emails; undefined when it is neither. */
export function normaliseRecipient(channel: SuppressionChannel, recipient: string): string | undefined {
  const r = recipient.trim();
  if (channel === 'email') return /^[^\s@]+@[^\s@]+$/.test(r) && r.length <= 320 ? r.toLowerCase() : undefined;
  const bare = r.startsWith('whatsapp:') ? r.slice('whatsapp:'.length) : r;
  return E164.test(bare) ? bare : undefined;
}

function decode(channel: SuppressionChannel, recipient: string, v: string): Suppression {
  const i = v.indexOf('|');
  return { channel, recipient, reason: v.slice(0, i) as SuppressionReason, since: v.slice(i + 1) };
}

export async function getSuppression(db: DeliveryDb, channel: SuppressionChannel, recipient: string): Promise<Suppression | null> {
  const v = await db.connection.hget(listKey(db, channel), recipient);
  return v ? decode(channel, recipient, v) : null;
}

/**
 * Adds an entry. `replace` (manual PUT) overwrites; otherwise the first reason and its
 * date stay (a bounce after a manual entry keeps the manual one). True when it was new.
 */
export async function addSuppression(
  db: DeliveryDb,
  channel: SuppressionChannel,
  recipient: string,
  reason: SuppressionReason,
  opts: { replace?: boolean; now?: Date } = {},
): Promise<boolean> {
  const v = `${reason}|${(opts.now ?? new Date()).toISOString()}`;
  const k = listKey(db, channel);
  return (opts.replace ? await db.connection.hset(k, recipient, v) : await db.connection.hsetnx(k, recipient, v)) === 1;
}

export async function removeSuppression(db: DeliveryDb, channel: SuppressionChannel, recipient: string): Promise<boolean> {
  return (await db.connection.hdel(listKey(db, channel), recipient)) === 1;
}

/** START: lifts an opt-out, and only an opt-out (a bounce or a manual entry stays). */
const LIFT = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, 10) == 'opted_out|' then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

export async function liftOptOut(db: DeliveryDb, channel: SuppressionChannel, recipient: string): Promise<boolean> {
  return (await (db.connection as RedisClient).eval(LIFT, 1, listKey(db, channel), recipient)) === 1;
}

/** The suppressed ones among `recipients` (normalised) and why: one round trip. */
export async function suppressedAmong(db: DeliveryDb, channel: SuppressionChannel, recipients: readonly string[]): Promise<Map<string, SuppressionReason>> {
  const out = new Map<string, SuppressionReason>();
  if (recipients.length === 0) return out;
  const normal = recipients.map((r) => normaliseRecipient(channel, r) ?? r);
  const values = await db.connection.hmget(listKey(db, channel), ...normal);
  values.forEach((v, i) => {
    if (v) out.set(recipients[i]!, v.slice(0, v.indexOf('|')) as SuppressionReason);
  });
  return out;
}

export interface SuppressionPage {
  items: Suppression[];
  nextCursor: string | null;
}

/**
 * A page of the list, channel after channel (or one channel). The cursor is
 * `<channel>:<HSCAN cursor>`: stable while entries come and go, as HSCAN guarantees
 * (an entry present the whole time is listed, possibly twice).
 */
export async function listSuppressions(db: DeliveryDb, opts: { channel?: SuppressionChannel; cursor?: string; limit?: number } = {}): Promise<SuppressionPage> {
  const channels = opts.channel ? [opts.channel] : [...SUPPRESSION_CHANNELS];
  const limit = opts.limit ?? 100;
  let [ci, scan] = parseCursor(opts.cursor, channels);
  const items: Suppression[] = [];
  while (ci < channels.length && items.length < limit) {
    const channel = channels[ci]!;
    const [next, flat] = await db.connection.hscan(listKey(db, channel), scan, 'COUNT', limit - items.length);
    for (let i = 0; i + 1 < flat.length; i += 2) items.push(decode(channel, flat[i]!, flat[i + 1]!));
    if (next === '0') {
      ci += 1;
      scan = '0';
    } else scan = next;
  }
  return { items, nextCursor: ci < channels.length ? `${channels[ci]}:${scan}` : null };
}

export class BadCursor extends Error {
  override name = 'BadCursor';
}

function parseCursor(cursor: string | undefined, channels: readonly SuppressionChannel[]): [number, string] {
  if (!cursor) return [0, '0'];
  const m = /^(email|sms|whatsapp):(\d{1,20})$/.exec(cursor);
  const ci = m ? channels.indexOf(m[1] as SuppressionChannel) : -1;
  if (!m || ci < 0) throw new BadCursor('cursor: not a cursor this list gave');
  return [ci, m[2]!];
}
