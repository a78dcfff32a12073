import twilio from 'twilio';
import type { DeliveryEvent, OptEvent, StatusEvent } from '../contract/delivery.js';
import type { DeliveryStatus } from '../contract/outcome.js';

/** Paths of the Twilio routes; the status one is also the StatusCallback sends carry. */
export const TWILIO_STATUS_PATH = '/providers/twilio/status';
export const TWILIO_INBOUND_PATH = '/providers/twilio/inbound';

export type FormParams = Record<string, string | string[]>;

/** A form body as Twilio's validator wants it (a repeated key becomes an array). */
export function formParams(raw: string): FormParams {
  const out: FormParams = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * X-Twilio-Signature over the public URL Twilio called (PUBLIC_URL + path, never the Host
 * header: the service sits behind proxies) and the form parameters, with the auth token.
 */
export function verifyTwilio(authToken: string, signature: string | undefined, url: string, params: FormParams): boolean {
  if (!signature) return false;
  try {
    return twilio.validateRequest(authToken, signature, url, params);
  } catch {
    return false;
  }
}

/** Twilio MessageStatus -> ours; the steps before leaving Twilio (queued, sending...) are not ours to track. */
const STATUSES: Record<string, DeliveryStatus> = {
  sent: 'sent',
  delivered: 'delivered',
  partially_delivered: 'delivered',
  read: 'read',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/** Twilio's "unsubscribed recipient": the number sent STOP. */
const OPTED_OUT = '21610';

export class MalformedEvent extends Error {
  override name = 'MalformedEvent';
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
const PHONE = /^\+[1-9]\d{6,14}$/;

/** The recipient of a message and its channel, from `whatsapp:+E164` or `+E164`. */
export function twilioAddress(v: string | undefined): { channel: 'sms' | 'whatsapp'; recipient: string } | undefined {
  if (!v) return undefined;
  const whatsapp = v.startsWith('whatsapp:');
  const recipient = whatsapp ? v.slice('whatsapp:'.length) : v;
  return PHONE.test(recipient) ? { channel: whatsapp ? 'whatsapp' : 'sms', recipient } : undefined;
}

export interface TwilioParsed<E> {
  accountSid?: string;
  /** Events to apply; empty for a step we do not track (queued, sending) or an unrelated inbound message. */
  events: E[];
  /** The channel, for metrics. */
  channel: 'sms' | 'whatsapp';
}

/** A status callback (MessageSid, MessageStatus, ErrorCode, To, AccountSid). */
export function parseTwilioStatus(p: FormParams, now = new Date()): TwilioParsed<StatusEvent> {
  const sid = one(p.MessageSid) ?? one(p.SmsSid);
  const word = (one(p.MessageStatus) ?? one(p.SmsStatus))?.toLowerCase();
  if (!sid || !SID.test(sid)) throw new MalformedEvent('MessageSid: missing or not a Twilio message SID');
  if (!word) throw new MalformedEvent('MessageStatus: missing');
  const to = twilioAddress(one(p.To));
  const channel = to?.channel ?? (one(p.From)?.startsWith('whatsapp:') ? 'whatsapp' : 'sms');
  const status = STATUSES[word];
  if (!status) return { accountSid: one(p.AccountSid), events: [], channel };
  const errorCode = one(p.ErrorCode) || undefined;
  const event: StatusEvent = {
    type: 'status',
    provider: 'twilio',
    messageId: sid,
    status,
    ...(errorCode && { errorCode: errorCode.slice(0, 64) }),
    at: now.toISOString(),
    ...(errorCode === OPTED_OUT && to && { suppress: { channel: to.channel, recipient: to.recipient, reason: 'opted_out' as const } }),
  };
  return { accountSid: one(p.AccountSid), events: [event], channel };
}

// Twilio's own opt-out and opt-in keywords (Advanced Opt-Out defaults), plus the French ARRET.
const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'ARRET']);
const START_WORDS = new Set(['START', 'UNSTOP']);

/** An incoming message (From, Body, OptOutType): an opt-out, an opt-in, or nothing for us. */
export function parseTwilioInbound(p: FormParams, now = new Date()): TwilioParsed<OptEvent> {
  const from = twilioAddress(one(p.From));
  if (!from) throw new MalformedEvent('From: missing or not a phone number');
  const optOutType = one(p.OptOutType)?.trim().toUpperCase();
  const word = (one(p.Body) ?? '').trim().toUpperCase();
  const type: OptEvent['type'] | undefined =
    optOutType === 'STOP' || STOP_WORDS.has(word) ? 'opt_out' : optOutType === 'START' || START_WORDS.has(word) ? 'opt_in' : undefined;
  const events: OptEvent[] = type ? [{ type, channel: from.channel, recipient: from.recipient, at: now.toISOString() }] : [];
  return { accountSid: one(p.AccountSid), events, channel: from.channel };
}

export type { DeliveryEvent };
