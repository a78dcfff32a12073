/**
 * The provider fakes (test/fakes) in a process of their own, so the worker under test
 * does not share its event loop with the "provider". Driven by the parent over IPC.
 */
import { Server } from 'node:http';
import { FakeResend } from '../test/fakes/resend.js';
import { FakeTwilio } from '../test/fakes/twilio.js';
import { blast, epochNow, signedCallbacks } from './callbacks.js';

export type FakeCommand =
  | { cmd: 'latency'; ms: number }
  | { cmd: 'reset' }
  | { cmd: 'count' }
  | { cmd: 'connections' }
  | { cmd: 'deliveries' }
  | { cmd: 'callbacks'; url: string; sids: string[]; status: string };

/** A blast of status callbacks, timed here: wall-clock ms (epochNow), comparable with the parent's. */
export interface CallbacksPosted {
  startedAt: number;
  endedAt: number;
  error?: string;
}

export interface FakeInfo {
  resendUrl: string;
  resendKey: string;
  twilioUrl: string;
  twilioSid: string;
  twilioToken: string;
}

/** Receipt time at the fake and the message body (SMS body or email subject). */
export type Delivery = [at: number, text: string];

// TCP connections accepted by the fakes: shows whether the SDKs keep connections alive.
let connections = 0;
const emit = Server.prototype.emit as (this: Server, event: string, ...args: unknown[]) => boolean;
Server.prototype.emit = function (this: Server, event: string, ...args: unknown[]) {
  if (event === 'connection') connections++;
  return emit.call(this, event, ...args);
} as typeof Server.prototype.emit;

const resend = new FakeResend();
const twilio = new FakeTwilio();

function answer(id: number, value: unknown) {
  process.send!({ id, value });
}

process.on('message', (m: { id: number } & FakeCommand) => {
  switch (m.cmd) {
    case 'latency':
      resend.latencyMs = twilio.latencyMs = m.ms;
      return answer(m.id, true);
    case 'reset': {
      // The fakes record every request: forget them between runs to keep memory flat.
      // reset() also zeroes the latency: keep it.
      const ms = twilio.latencyMs;
      resend.reset();
      twilio.reset();
      resend.latencyMs = twilio.latencyMs = ms;
      resend.delivered.length = 0;
      twilio.delivered.length = 0;
      connections = 0;
      return answer(m.id, true);
    }
    case 'count':
      return answer(m.id, resend.delivered.length + twilio.delivered.length);
    case 'connections':
      return answer(m.id, connections);
    case 'deliveries':
      return answer(m.id, [
        ...resend.delivered.map((d): Delivery => [d.at, d.subject]),
        ...twilio.delivered.map((d): Delivery => [d.at, d.body ?? '']),
      ]);
    case 'callbacks': {
      // Twilio's side of the delivery loop: its status callbacks come from another process.
      const calls = signedCallbacks(m.url, twilio.accountSid, twilio.authToken, m.sids, m.status);
      const startedAt = epochNow();
      blast(m.url, calls).then(
        () => answer(m.id, { startedAt, endedAt: epochNow() } satisfies CallbacksPosted),
        (err: Error) => answer(m.id, { startedAt, endedAt: epochNow(), error: err.message } satisfies CallbacksPosted),
      );
      return;
    }
  }
});
process.on('disconnect', () => process.exit(0));

await resend.start();
await twilio.start();
const info: FakeInfo = {
  resendUrl: resend.url,
  resendKey: resend.apiKey,
  twilioUrl: twilio.url,
  twilioSid: twilio.accountSid,
  twilioToken: twilio.authToken,
};
process.send!({ ready: info });
