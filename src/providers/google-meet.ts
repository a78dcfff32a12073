import { createHash } from 'node:crypto';
import { auth, calendar, type calendar_v3 } from '@googleapis/calendar';
import { permanent, transient, type ProviderError } from '../contract/errors.js';
import { delegatedClient, delegationHelp, withoutLibraryRetries, type ServiceAccount } from './google-delegation.js';
import { delegationRefused, isTokenRequest, mapGoogleError, statusOf, unknownDelegatedUser } from './google-errors.js';
import type { CreatedMeeting, MeetingChange, MeetingProvider, MeetingSpec } from './types.js';

export interface GoogleMeetOptions {
  /** The refresh-token account (an OAuth client and one user's consent): its `calendarId` holds the events. */
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  calendarId: string;
  /** A service account with domain-wide delegation: events go into each host's own primary calendar. */
  serviceAccount?: ServiceAccount;
  /** Acted as, by delegation, for a meeting without a host email when there is no refresh-token account. */
  defaultHost?: string;
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
type Calendar = calendar_v3.Calendar;

/** Hosts whose token clients are kept; beyond this the oldest is dropped (it only costs a new token). */
const MAX_CACHED_HOSTS = 1_000;

/**
 * Where a call goes: an authorised Calendar client and the calendar in it. `renew` drops
 * the access token after a 401 so the next call fetches a fresh one.
 */
interface Access {
  cal: Calendar;
  calendarId: string;
  /** Shown as the result's `hostedBy`. */
  hostedBy: string;
  /** Stored with the meeting; `update` / `remove` get it back (see `accessFor`). */
  owner: string;
  renew(): void;
}

const USER_OWNER = 'user:';
const CALENDAR_OWNER = 'calendar:';

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
 * authorised by a long-lived refresh token, or by a service account acting as each host
 * (domain-wide delegation). The clients' own retries are off: the queue owns retries,
 * backoff and 429 pauses.
 */
export function createGoogleMeet(opts: GoogleMeetOptions): MeetingProvider {
  const now = opts.now ?? Date.now;
  const tokenUrl = opts.tokenUrl;
  const calendarOf = (authClient: calendar_v3.Options['auth']): Calendar =>
    calendar({
      version: 'v3',
      auth: authClient,
      rootUrl: opts.apiBaseUrl,
      retry: false,
      retryConfig: { retry: 0, noResponseRetries: 0 },
      timeout: opts.timeoutMs,
    });

  /** The refresh-token account, when configured: one client for every job. */
  const account = (() => {
    if (!opts.clientId || !opts.clientSecret || !opts.refreshToken) return undefined;
    const refreshToken = opts.refreshToken;
    const oauth = new auth.OAuth2({
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      endpoints: { oauth2TokenUrl: tokenUrl },
      transporterOptions: { timeout: opts.timeoutMs },
    });
    oauth.setCredentials({ refresh_token: refreshToken });
    withoutLibraryRetries(oauth.transporter);
    const cal = calendarOf(oauth);
    return (calendarId: string): Access => ({
      cal,
      calendarId,
      hostedBy: calendarId,
      owner: CALENDAR_OWNER + calendarId,
      renew: () => oauth.setCredentials({ refresh_token: refreshToken }),
    });
  })();

  /**
   * Domain-wide delegation: one JWT client per host (`sub` = the host), kept, so its token
   * is cached and concurrent calls for one host share one token request (the client's own
   * single flight); two hosts are two grants.
   */
  const delegated = new Map<string, Access>();
  function actingAs(host: string): Access {
    const sa = opts.serviceAccount;
    if (!sa) throw permanent('PROVIDER_REJECTED', 'google: this meeting belongs to a host calendar, but GOOGLE_SERVICE_ACCOUNT_KEY is not set');
    const key = host.toLowerCase();
    const cached = delegated.get(key);
    if (cached) return cached;
    const jwt = delegatedClient(sa, key, tokenUrl, opts.timeoutMs);
    const access: Access = {
      cal: calendarOf(jwt),
      calendarId: 'primary', // the host's own calendar, as the host sees it
      hostedBy: key,
      owner: USER_OWNER + key,
      renew: () => jwt.setCredentials({ refresh_token: 'jwt-placeholder', expiry_date: 1 }),
    };
    if (delegated.size >= MAX_CACHED_HOSTS) delegated.delete(delegated.keys().next().value!);
    delegated.set(key, access);
    return access;
  }

  /** Who a new meeting belongs to (README "Meetings owned by the host"). */
  const accessForCreate = (spec: MeetingSpec): Access =>
    spec.hostEmail && opts.serviceAccount ? actingAs(spec.hostEmail) : defaultAccess();

  /** No host named: the refresh-token account, else GOOGLE_DEFAULT_HOST by delegation, else refused at once. */
  function defaultAccess(): Access {
    if (account) return account(opts.calendarId);
    if (opts.defaultHost && opts.serviceAccount) return actingAs(opts.defaultHost);
    throw permanent(
      'PROVIDER_REJECTED',
      'google: a host email is needed: with domain-wide delegation and no refresh-token account, give the job a hostEmail or set GOOGLE_DEFAULT_HOST',
    );
  }

  /** Where a meeting for an unknown host goes instead: the default host, unless that is who failed. */
  function fallbackAccess(failed: Access): Access | undefined {
    try {
      const d = defaultAccess();
      return d.owner === failed.owner ? undefined : d;
    } catch {
      return undefined;
    }
  }

  /** The owner a stored meeting was created under; meetings stored before hosts existed are the account's. */
  function accessFor(owner: string | undefined): Access {
    if (owner?.startsWith(USER_OWNER)) return actingAs(owner.slice(USER_OWNER.length));
    if (owner?.startsWith(CALENDAR_OWNER)) {
      if (!account) throw permanent('PROVIDER_REJECTED', 'google: this meeting belongs to the refresh-token account, but GOOGLE_REFRESH_TOKEN is not set');
      return account(owner.slice(CALENDAR_OWNER.length));
    }
    return defaultAccess();
  }

  /** The SDK's errors to the contract's codes; a refused delegation says what the admin must grant. */
  const mapError = (err: unknown, what: string, a: Access) => {
    if (delegationRefused(err, tokenUrl)) return permanent('PROVIDER_AUTH', `google oauth: ${delegationHelp(opts.serviceAccount, a.hostedBy)}`);
    return mapGoogleError(err, what, tokenUrl, now());
  };

  const pollIntervalMs = opts.pollIntervalMs ?? 250;
  const pollAttempts = opts.pollAttempts ?? 6;

  /** A 401 on an API call means the access token died early: drop it, fetch a new one once, retry. */
  async function raw<T>(a: Access, fn: () => Promise<{ data: T }>): Promise<T> {
    try {
      return (await fn()).data;
    } catch (err) {
      if (statusOf(err) !== 401 || isTokenRequest(err, tokenUrl)) throw err;
      a.renew();
      return (await fn()).data;
    }
  }

  /** `raw`, with the SDK's errors mapped to the contract's codes. */
  const api = <T>(a: Access, what: string, fn: () => Promise<{ data: T }>): Promise<T> =>
    raw(a, fn).catch((err: unknown) => {
      throw mapError(err, what, a);
    });

  const get = (a: Access, eventId: string) =>
    api(a, 'reading an event', () => a.cal.events.get({ calendarId: a.calendarId, eventId }));

  const timing = (c: { startTime: string; durationMinutes: number; timezone: string }) => ({
    start: { dateTime: c.startTime, timeZone: c.timezone },
    end: { dateTime: plusMinutes(c.startTime, c.durationMinutes), timeZone: c.timezone },
  });

  /** Re-confirms an event of ours that was cancelled or lost its conference, with a fresh conference. */
  const revive = (a: Access, eventId: string, spec: MeetingSpec) =>
    api(a, 'reviving an event', () =>
      a.cal.events.patch({
        calendarId: a.calendarId,
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

  async function insert(a: Access, spec: MeetingSpec): Promise<Event> {
    const id = eventIdFor(spec.appointmentId);
    try {
      return await raw(a, () =>
        a.cal.events.insert({
          calendarId: a.calendarId,
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
      if (unknownDelegatedUser(err, tokenUrl)) throw new UnknownHost(mapError(err, 'creating an event', a));
      if (statusOf(err) !== 409 || isTokenRequest(err, tokenUrl)) throw mapError(err, 'creating an event', a);
    }
    // 409: an earlier attempt created it (its answer was lost, or it crashed before storing).
    const existing = await get(a, id);
    if (existing.status === 'cancelled' || !existing.conferenceData || conferenceStatus(existing) === 'failure')
      return revive(a, id, spec);
    return existing;
  }

  /** Meet links are sometimes created asynchronously: read the event until the conference settles. */
  async function settled(a: Access, event: Event): Promise<Event> {
    let e = event;
    for (let i = 0; i < pollAttempts && conferenceStatus(e) === 'pending'; i++) {
      await sleep(pollIntervalMs * (i + 1));
      e = await get(a, String(event.id));
    }
    return e;
  }

  return {
    kind: 'GOOGLE_MEET',
    name: 'google-meet',

    async create(spec: MeetingSpec): Promise<CreatedMeeting> {
      let a = accessForCreate(spec);
      let inserted: Event;
      let hostFallback: string | undefined;
      try {
        inserted = await insert(a, spec);
      } catch (err) {
        // Not a user Google knows (outside the domain, mistyped): like Zoom's unknown host,
        // the attendee still gets a working link, from the default host.
        const fallback = err instanceof UnknownHost ? fallbackAccess(a) : undefined;
        if (!fallback) throw err instanceof UnknownHost ? err.error : err;
        hostFallback = `${a.hostedBy} is not a user of the Google Workspace domain (invalid_grant): hosted by ${fallback.hostedBy} instead`;
        a = fallback;
        inserted = await insert(a, spec);
      }
      const event = await settled(a, inserted);
      const status = conferenceStatus(event);
      // The event exists under its deterministic id: a retry finds it with a 409 and goes on.
      if (status === 'pending') throw transient('google: the Meet conference is still being created');
      if (status === 'failure')
        throw permanent('PROVIDER_REJECTED', 'google: Meet conference creation failed; is Google Meet allowed for this calendar?');
      const joinUrl = joinUrlOf(event);
      if (!joinUrl)
        throw permanent('PROVIDER_REJECTED', 'google: the event has no Meet link; is Google Meet allowed for this calendar?');
      return {
        visioMeetingId: String(event.id),
        visioUrl: joinUrl,
        hostedBy: a.hostedBy,
        owner: a.owner,
        ...(hostFallback && { hostFallback }),
        ...(event.iCalUID && { icalUid: event.iCalUID }),
      };
    },

    async update(meetingId: string, change: MeetingChange, owner?: string) {
      const a = accessFor(owner);
      await api(a, 'moving an event', () =>
        a.cal.events.patch({
          calendarId: a.calendarId,
          eventId: meetingId,
          sendUpdates: 'none',
          requestBody: { ...timing(change), ...(change.topic && { summary: change.topic }) },
        }),
      );
    },

    async remove(meetingId: string, owner?: string) {
      const a = accessFor(owner);
      try {
        await raw(a, () => a.cal.events.delete({ calendarId: a.calendarId, eventId: meetingId, sendUpdates: 'none' }));
      } catch (err) {
        const status = statusOf(err);
        // 404 Not Found / 410 Gone: already deleted, which is what we wanted.
        if ((status === 404 || status === 410) && !isTokenRequest(err, tokenUrl)) return;
        throw mapError(err, 'deleting an event', a);
      }
    },
  };
}

/** The grant for a host failed because Google knows no such user; `error` is what to fail with if nothing else can host. */
class UnknownHost extends Error {
  constructor(readonly error: ProviderError) {
    super(error.message);
  }
}
