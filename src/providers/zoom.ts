import { fromHttpStatus, parseRetryAfter, rateLimited, transient, type ProviderError } from '../contract/errors.js';
import { maskEmailsIn } from '../logger.js';
import type { CreatedMeeting, MeetingChange, MeetingProvider, MeetingSpec } from './types.js';
import { networkReason } from './network.js';
import { ZoomTokenSource } from './zoom-token.js';

export interface ZoomOptions {
  clientId: string;
  clientSecret: string;
  accountId: string;
  /** The Zoom user hosting the meetings: `me` (the app's owner), a user id or an email. */
  userId: string;
  /**
   * Create a meeting that names a host email under that Zoom user (`/users/{email}/meetings`),
   * falling back to `userId` when Zoom does not know the user. Off: always `userId`.
   */
  hostFromAppointment?: boolean;
  apiBaseUrl: string;
  oauthBaseUrl: string;
  timeoutMs: number;
  now?: () => number;
}

interface ZoomMeeting {
  id?: number | string;
  join_url?: string;
  password?: string;
  agenda?: string;
}

interface ZoomReply {
  status: number;
  data: any;
  headers: Headers;
}

const DAY_MS = 86_400_000;
/** The longest a recovery search pages through a host's scheduled meetings. */
const MAX_LIST_PAGES = 10;

/** Zoom wants `yyyy-MM-ddTHH:mm:ssZ` (UTC, no milliseconds) when no local time is given. */
export const zoomTime = (iso: string) => new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A tag in the agenda: Zoom has no idempotency key, so this is how a lost answer is found again. */
export const recoveryTag = (appointmentId: string) => `[ref ${appointmentId}]`;

/** Zoom's code for "User does not exist" (with a 404). */
const USER_NOT_FOUND = 1001;

const isUnknownUser = (r: ZoomReply) => r.status === 404 && r.data?.code === USER_NOT_FOUND;

/** Zoom's errors: `{code, message}`; a 429's Retry-After is an ISO time for the daily limit. */
export function mapZoomError(r: { status: number; data: any; headers: Headers }, what: string, now = Date.now()): ProviderError {
  const code = typeof r.data?.code === 'number' ? r.data.code : undefined;
  const msg = `zoom ${r.status}${code && code !== r.status ? `/${code}` : ''} ${what}: ${maskEmailsIn(String(r.data?.message ?? 'no details'))}`;
  if (r.status === 429) {
    const after = parseRetryAfter(r.headers.get('retry-after'), now);
    const type = r.headers.get('x-ratelimit-type') ?? '';
    // The daily create/update limit resets at 00:00 UTC; Zoom does not always say when.
    const daily = /daily/i.test(type) || /daily/i.test(String(r.data?.message ?? ''));
    return rateLimited(msg, after ?? (daily ? DAY_MS - (now % DAY_MS) : /qps|second/i.test(type) ? 1_000 : undefined));
  }
  return fromHttpStatus(r.status, msg);
}

/**
 * Zoom meetings through the REST API v2 with plain `fetch` (Node pools keep-alive
 * connections by default) and a Server-to-Server OAuth token shared by every job.
 */
export function createZoom(opts: ZoomOptions): MeetingProvider {
  const tokens = new ZoomTokenSource(opts);
  const now = opts.now ?? Date.now;
  const fallbackUser = opts.userId;
  /** The Zoom user a meeting is asked of: the host when the option is on and the job names one. */
  const wantedUser = (spec: MeetingSpec) => (opts.hostFromAppointment && spec.hostEmail) || fallbackUser;
  const userPath = (user: string) => `/users/${encodeURIComponent(user)}/meetings`;
  const fellBack = (wanted: string) => `${wanted} is not a user of the Zoom account (404/1001): hosted by ${fallbackUser} instead`;

  /** One call; a 401 means the token was revoked or expired early: renew once and retry. */
  async function call(method: string, path: string, body?: unknown, retried = false): Promise<ZoomReply> {
    const token = await tokens.get();
    let res: Response;
    let data: any;
    try {
      res = await fetch(`${opts.apiBaseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      const text = await res.text();
      data = text ? safeJson(text) : undefined;
    } catch (err) {
      // No answer: Zoom may or may not have acted. Creation copes through `recover`.
      throw transient(`zoom ${method} ${pathLabel(path)}: ${networkReason(err)}`);
    }
    if (res.status === 401 && !retried) {
      tokens.invalidate(token);
      return call(method, path, body, true);
    }
    return { status: res.status, data, headers: res.headers };
  }

  const meetingOf = (m: ZoomMeeting) => ({
    visioMeetingId: String(m.id),
    visioUrl: String(m.join_url),
    ...(m.password && { password: m.password }),
  });

  const createUnder = (user: string, spec: MeetingSpec) =>
    call('POST', userPath(user), {
      topic: spec.topic,
      type: 2, // scheduled
      start_time: zoomTime(spec.startTime),
      duration: spec.durationMinutes,
      timezone: spec.timezone,
      agenda: recoveryTag(spec.appointmentId),
      settings: {
        join_before_host: false,
        waiting_room: true,
        host_video: true,
        participant_video: true,
        mute_upon_entry: true,
        approval_type: 2, // no registration
        // We send our own invitations and reminders.
        registrants_email_notification: false,
        auto_recording: 'none',
      },
    });

  function createdFrom(r: ZoomReply, user: string): CreatedMeeting {
    if (r.status !== 201 && r.status !== 200) throw mapZoomError(r, 'creating a meeting', now());
    if (!r.data?.id || !r.data?.join_url) throw transient('zoom created a meeting but its answer had no id or join_url');
    return { ...meetingOf(r.data), hostedBy: user };
  }

  /** The meeting carrying the appointment's tag among the user's scheduled meetings; 'unknown-user' on 404/1001. */
  async function searchUnder(user: string, spec: MeetingSpec): Promise<Omit<CreatedMeeting, 'hostedBy'> | undefined | 'unknown-user'> {
    const tag = recoveryTag(spec.appointmentId);
    let pageToken = '';
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const q = new URLSearchParams({ type: 'scheduled', page_size: '300', ...(pageToken && { next_page_token: pageToken }) });
      const r = await call('GET', `${userPath(user)}?${q}`);
      if (isUnknownUser(r)) return 'unknown-user';
      if (r.status !== 200) {
        const err = mapZoomError(r, 'listing meetings', now());
        // Cannot search (e.g. the app lacks the list scope): creating is all that is left.
        if (err.kind === 'permanent') return undefined;
        throw err;
      }
      const found = (r.data?.meetings as ZoomMeeting[] | undefined)?.find((m) => m.agenda?.includes(tag));
      if (found) {
        // The list carries no passcode: read the meeting itself.
        const full = await call('GET', `/meetings/${encodeURIComponent(String(found.id))}`);
        if (full.status !== 200) throw mapZoomError(full, 'reading a meeting', now());
        return meetingOf(full.data);
      }
      pageToken = r.data?.next_page_token ?? '';
      if (!pageToken) return undefined;
    }
    return undefined;
  }

  return {
    kind: 'ZOOM',
    name: 'zoom',

    async create(spec: MeetingSpec) {
      const wanted = wantedUser(spec);
      const r = await createUnder(wanted, spec);
      if (isUnknownUser(r) && wanted !== fallbackUser) {
        // Not a user of this account (yet): the attendee still gets a working link, from the fallback host.
        const again = await createUnder(fallbackUser, spec);
        return { ...createdFrom(again, fallbackUser), hostFallback: fellBack(wanted) };
      }
      return createdFrom(r, wanted);
    },

    async recover(spec: MeetingSpec) {
      const wanted = wantedUser(spec);
      const found = await searchUnder(wanted, spec);
      if (found !== 'unknown-user') return found && { ...found, hostedBy: wanted };
      // The host is unknown to Zoom: the lost attempt created under the fallback user, if anywhere.
      const fallback = wanted === fallbackUser ? undefined : await searchUnder(fallbackUser, spec);
      return fallback && fallback !== 'unknown-user'
        ? { ...fallback, hostedBy: fallbackUser, hostFallback: fellBack(wanted) }
        : undefined;
    },

    async update(meetingId: string, change: MeetingChange) {
      const r = await call('PATCH', `/meetings/${encodeURIComponent(meetingId)}`, {
        start_time: zoomTime(change.startTime),
        duration: change.durationMinutes,
        timezone: change.timezone,
        ...(change.topic && { topic: change.topic }),
      });
      if (r.status !== 204 && r.status !== 200) throw mapZoomError(r, 'moving a meeting', now());
    },

    async remove(meetingId: string) {
      const r = await call('DELETE', `/meetings/${encodeURIComponent(meetingId)}`);
      if (r.status === 204 || r.status === 200) return;
      // 3001 "Meeting does not exist": already gone, which is what we wanted.
      if (r.status === 404 && r.data?.code === 3001) return;
      throw mapZoomError(r, 'deleting a meeting', now());
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/** Paths carry the host's id or email: keep them out of error messages. */
const pathLabel = (path: string) => path.replace(/^\/users\/[^/]+/, '/users/*').replace(/\?.*$/, '');
