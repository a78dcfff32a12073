import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from '../src/index.js';

const secret = 'whsec_test_0123456789';
const body = JSON.stringify({ id: 'evt_1', type: 'meeting.created', createdAt: '2030-01-15T10:00:00.000Z', data: { a: 1 } });

describe('webhook signatures', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256, hex, in t=...,v1=...', () => {
    const header = signPayload(secret, body, 1_900_000_000);
    const expected = createHmac('sha256', secret).update(`1900000000.${body}`).digest('hex');
    expect(header).toBe(`t=1900000000,v1=${expected}`);
  });

  it('verifies a fresh signature of the exact body', () => {
    expect(verifySignature(secret, body, signPayload(secret, body))).toBe(true);
    expect(verifySignature(secret, Buffer.from(body), signPayload(secret, body))).toBe(true);
  });

  it('rejects another body, another secret, a missing or malformed header', () => {
    const header = signPayload(secret, body);
    expect(verifySignature(secret, body.replace('"a":1', '"a":2'), header)).toBe(false);
    expect(verifySignature('another-secret', body, header)).toBe(false);
    expect(verifySignature(secret, body, undefined)).toBe(false);
    expect(verifySignature(secret, body, 'v1=abc')).toBe(false);
    expect(verifySignature(secret, body, 't=abc,v1=00')).toBe(false);
  });

  it('rejects a signature outside the tolerance (replayed later), unless told not to check', () => {
    const old = signPayload(secret, body, 1_900_000_000);
    expect(verifySignature(secret, body, old, { now: 1_900_000_000 + 301 })).toBe(false);
    expect(verifySignature(secret, body, old, { now: 1_900_000_000 + 299 })).toBe(true);
    expect(verifySignature(secret, body, old, { toleranceSeconds: 0 })).toBe(true);
  });

  it('accepts any of several v1 entries (secret rotation)', () => {
    const t = Math.floor(Date.now() / 1000);
    const mine = signPayload(secret, body, t).split(',')[1];
    expect(verifySignature(secret, body, `t=${t},v1=${'0'.repeat(64)},${mine}`)).toBe(true);
  });
});
