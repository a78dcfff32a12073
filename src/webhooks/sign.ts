import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (README "Webhooks").
 * The timestamp is signed with the body so a captured delivery cannot be replayed later.
 */
export const SIGNATURE_HEADER = 'X-Signature';

const hmac = (secret: string, t: number, rawBody: string | Buffer) =>
  createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');

/** The header value for `rawBody`, signed at `t` (unix seconds, now by default). */
export function signPayload(secret: string, rawBody: string | Buffer, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${hmac(secret, t, rawBody)}`;
}

export interface VerifyOptions {
  /** Reject signatures older (or newer) than this; 300 s by default, 0 to skip the check. */
  toleranceSeconds?: number;
  now?: number;
}

/**
 * For receivers: true when `header` signs exactly `rawBody` (the bytes received, before any
 * JSON parsing) with `secret`, within the time tolerance. Several v1 entries (secret
 * rotation) are accepted; comparison is constant-time.
 */
export function verifySignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | null | undefined,
  opts: VerifyOptions = {},
): boolean {
  if (!header) return false;
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) return false;
  const tolerance = opts.toleranceSeconds ?? 300;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (tolerance > 0 && Math.abs(now - t) > tolerance) return false;
  const expected = Buffer.from(hmac(secret, t, rawBody), 'hex');
  return parts
    .filter(([k, v]) => k === 'v1' && v && /^[0-9a-f]{64}$/i.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v!, 'hex'), expected));
}
