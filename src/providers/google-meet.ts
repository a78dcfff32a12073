import { createHash } from 'node:crypto';
import { auth, calendar, type calendar_v3 } from '@googleapis/calendar';
import { permanent, transient } from '../contract/errors.js';
import { isTokenRequest, mapGoogleError, statusOf } from './google-errors.js';
import type { CreatedMeeting, MeetingChange, MeetingProvider, MeetingSpec } from './types.js';

export interface GoogleMeetOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  calendarId: string;
  /** Calendar API root, `https://www.googleapis.com/` or an override. */
  apiBaseUrl: string;
  /** OAuth token endpoint, `https://oauth2.googleapis.com/token` or an override. */
  tokenUrl: string;
  timeoutMs: number;
  /** How long to wait for a `pending` conference: `pollAttempts` reads, `pollIntervalMs` apart (growing). */
  pollIntervalMs?: number;
  pollAttempts?: number;
  now?: () => number;
}

type Event = calendar_v3.Schema$Event;

/**
 * Calendar event ids are base32hex (a-v, 0-9), 5-1024 characters. Hex is a subset: a
 * deterministic id makes a retried insert answer 409 instead of creating a second event.
 */
export const eventIdFor = (appointmentId: string) =>
  createHash('sha256').update(`notification-worker:meeting:${appointmentId}`).digest('hex');

/** Google ignores a createRequest whose requestId it has seen: same appointment, same conference. */
const requestIdFor = (appointmentId: string) => `meet-${appointmentId}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const plusMinutes = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

const conferenceStatus = (e: Event) => e.conferenceData?.createRequest?.status?.statusCode ?? undefined;

const joinUrlOf = (e: Event) =>
  e.hangoutLink ?? e.conferenceData?.entryPoints?.find((p) => p.entryPointType === 'video')?.uri ?? undefined;

/**
 * Google Meet links through Calendar events (the official `@googleapis/calendar` client),
 * authorised by a long-lived refresh token. The client's own retries are off: the queue
 * owns retries, backoff and 429 pauses.
 */
export function createGoogleMeet(opts: GoogleMeetOptions): MeetingProvider {
  const now = opts.now ?? Date.now;
  const oauth = new auth.OAuth2({
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    endpoints: { oauth2TokenUrl: opts.tokenUrl },
    transporterOptions: { timeout: opts.timeoutMs },
  });
  oauth.setCredentials({ refresh_token: opts.refreshToken });
  // The token refresh carries the library's own retry config (3 tries, POST included):
  // switch it off on every request this client sends, API calls included.
  oauth.transporter.interceptors.request.add({
    resolved: async (o) => {
      o.retry = false;
      o.retryConfig = { ...o.retryConfig, retry: 0, noResponseRetries: 0 };
      return o;
    },
  });
  const cal = calendar({
    version: 'v3',
    auth: oauth,
    rootUrl: opts.apiBaseUrl,
    retry: false,
    retryConfig: { retry: 0, noResponseRetries: 0 },
    timeout: opts.timeoutMs,
  });
  const calendarId = opts.calendarId;
  const pollIntervalMs = opts.pollIntervalMs ?? 250;
  const pollAttempts = opts.pollAttempts ?? 6;

  /** A 401 on an API call means the access token died early: drop it, refresh once, retry. */
  async function raw<T>(fn: () => Promise<{ data: T }>): Promise<T> {
    try {
      return (await fn()).data;
    } catch (err) {
      if (statusOf(err) !== 401 || isTokenRequest(err, opts.tokenUrl)) throw err;
      oauth.setCredentials({ refresh_token: opts.refreshToken });
      return (await fn()).data;
    }
  }

  /** `raw`, with the SDK's errors mapped to the contract's codes. */
  const api = <T>(what: string, fn: () => Promise<{ data: T }>): Promise<T> =>
    raw(fn).catch((err: unknown) => {
      throw mapGoogleError(err, what, opts.tokenUrl, now());
    });

  const get = (eventId: string) => api('reading an event', () => cal.events.get({ calendarId, eventId }));

  const timing = (c: { startTime: string; durationMinutes: number; timezone: string }) => ({
    start: { dateTime: c.startTime, timeZone: c.timezone },
    end: { dateTime: plusMinutes(c.startTime, c.durationMinutes), timeZone: c.timezone },
  });

  /** Re-confirms an event of ours that was cancelled or lost its conference, with a fresh conference. */
  const revive = (eventId: string, spec: MeetingSpec) =>
    api('reviving an event', () =>
      cal.events.patch({
        calendarId,
        eventId,
        conferenceDataVersion: 1,
        sendUpdates: 'none',
        requestBody: {
          status: 'confirmed',
          summary: spec.topic,
          ...timing(spec),
          conferenceData: {
            createRequest: { requestId: `${requestIdFor(spec.appointmentId)}-${now()}`, conferenceSolutionKey: { type: 'hangoutsMeet' } },
          },
        },
      }),
    );

  async function insert(spec: MeetingSpec): Promise<Event> {
    const id = eventIdFor(spec.appointmentId);
    try {
      return await raw(() =>
        cal.events.insert({
          calendarId,
          conferenceDataVersion: 1,
          sendUpdates: 'none', // we send our own emails
          requestBody: {
            id,
            summary: spec.topic,
            ...timing(spec),
            ...(spec.attendees?.length && { attendees: spec.attendees.map((email) => ({ email })) }),
            guestsCanModify: false,
            extendedProperties: { private: { appointmentId: spec.appointmentId } },
            conferenceData: {
              createRequest: { requestId: requestIdFor(spec.appointmentId), conferenceSolutionKey: { type: 'hangoutsMeet' } },
            },
          },
        }),
      );
    } catch (err) {
      if (statusOf(err) !== 409 || isTokenRequest(err, opts.tokenUrl)) throw mapGoogleError(err, 'creating an event', opts.tokenUrl, now());
    }
    // 409: an earlier attempt created it (its answer was lost, or it crashed before storing).
    const existing = await get(id);
    if (existing.status === 'cancelled' || !existing.conferenceData || conferenceStatus(existing) === 'failure')
      return revive(id, spec);
    return existing;
  }

  /** Meet links are sometimes created asynchronously: read the event until the conference settles. */
  async function settled(event: Event): Promise<Event> {
    let e = event;
    for (let i = 0; i < pollAttempts && conferenceStatus(e) === 'pending'; i++) {
      await sleep(pollIntervalMs * (i + 1));
      e = await get(String(event.id));
    }
    return e;
  }

  return {
    kind: 'GOOGLE_MEET',
    name: 'google-meet',

    async create(spec: MeetingSpec): Promise<CreatedMeeting> {
      const event = await settled(await insert(spec));
      const status = conferenceStatus(event);
      // The event exists under its deterministic id: a retry finds it with a 409 and goes on.
      if (status === 'pending') throw transient('google: the Meet conference is still being created');
      if (status === 'failure')
        throw permanent('PROVIDER_REJECTED', 'google: Meet conference creation failed; is Google Meet allowed for this calendar?');
      const joinUrl = joinUrlOf(event);
      if (!joinUrl)
        throw permanent('PROVIDER_REJECTED', 'google: the event has no Meet link; is Google Meet allowed for this calendar?');
      return { meetingId: String(event.id), joinUrl, ...(event.iCalUID && { icalUid: event.iCalUID }) };
    },

    async update(meetingId: string, change: MeetingChange) {
      await api('moving an event', () =>
        cal.events.patch({
          calendarId,
          eventId: meetingId,
          sendUpdates: 'none',
          requestBody: { ...timing(change), ...(change.topic && { summary: change.topic }) },
        }),
      );
    },

    async remove(meetingId: string) {
      try {
        await raw(() => cal.events.delete({ calendarId, eventId: meetingId, sendUpdates: 'none' }));
      } catch (err) {
        const status = statusOf(err);
        // 404 Not Found / 410 Gone: already deleted, which is what we wanted.
        if ((status === 404 || status === 410) && !isTokenRequest(err, opts.tokenUrl)) return;
        throw mapGoogleError(err, 'deleting an event', opts.tokenUrl, now());
      }
    },
  };
}
