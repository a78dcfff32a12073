import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * Signs provider events as the providers do, for tests through the real routes:
 * Resend the Svix way, SendGrid with ECDSA P-256 (a key pair made here; its public half,
 * base64 DER, is what SendGrid shows as the verification key).
 */
export function resendSecret(): string {
  return 'whsec_' + randomBytes(24).toString('base64');
}

export function svixHeaders(secret: string, body: string, at = new Date(), id = 'msg_' + randomBytes(12).toString('hex')): Record<string, string> {
  const t = Math.floor(at.getTime() / 1000);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${t}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(t), 'svix-signature': `v1,${sig}` };
}

export interface SendGridKeys {
  publicKeyBase64: string;
  privateKey: KeyObject;
}

export function sendgridKeys(): SendGridKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicKeyBase64: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), privateKey };
}

export function sendgridHeaders(keys: SendGridKeys, body: string, at = new Date()): Record<string, string> {
  const t = String(Math.floor(at.getTime() / 1000));
  const sig = sign('sha256', Buffer.from(t + body), keys.privateKey).toString('base64');
  return {
    'content-type': 'application/json',
    'x-twilio-email-event-webhook-signature': sig,
    'x-twilio-email-event-webhook-timestamp': t,
  };
}

/** A Resend webhook event as Resend posts it. */
export function resendEvent(type: string, emailId: string, to: string[], extra: Record<string, unknown> = {}) {
  return {
    type,
    created_at: new Date().toISOString(),
    data: { email_id: emailId, from: 'Clinic <rdv@example.com>', to, subject: 'Rappel', created_at: new Date().toISOString(), ...extra },
  };
}

/** A SendGrid Event Webhook event for the send whose X-Message-Id is `xMessageId`. */
export function sendgridEvent(event: string, xMessageId: string, email: string, extra: Record<string, unknown> = {}) {
  return {
    email,
    event,
    timestamp: Math.floor(Date.now() / 1000),
    sg_event_id: randomBytes(8).toString('hex'),
    sg_message_id: `${xMessageId}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC1B3-3.0`,
    'smtp-id': `<${xMessageId}@ismtpd0001p1lon1.sendgrid.net>`,
    ...extra,
  };
}
