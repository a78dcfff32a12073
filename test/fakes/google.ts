import { createHash } from 'node:crypto';
import { FakeServer, type FakeReply, type RecordedRequest } from './server.js';

export interface FakeEvent {
  kind: 'calendar#event';
  id: string;
  status: 'confirmed' | 'cancelled';
  summary?: string;
  start?: { dateTime?: string; timeZone?: string };
  end?: { dateTime?: string; timeZone?: string };
  attendees?: { email: string }[];
  extendedProperties?: unknown;
  conferenceData?: any;
  hangoutLink?: string;
  created: string;
  updated: string;
  /** Fake-only: the conference turns `success` on the next read. */
  _pending?: boolean;
}

const googleError = (code: number, reason: string, message: string, status = ''): FakeReply => ({
  status: code,
  body: { error: { code, message, errors: [{ domain: 'global', reason, message }], ...(status && { status }) } },
});

const EVENTS = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/;
const EVENT = /^\/calendar\/v3\/calendars\/([^/]+)\/events\/([^/]+)$/;

/**
 * Google: the OAuth 2.0 token endpoint (`POST /token`, refresh_token grant) and the
 * Calendar v3 events resource (insert, get, patch, delete). Like Google, it answers 409
 * to an insert whose id exists (deleted events included: their id stays taken), ignores
 * conference data without `conferenceDataVersion=1`, and can create conferences `pending`.
 */
export class FakeGoogle extends FakeServer {
  readonly events = new Map<string, FakeEvent>();
  private readonly validTokens = new Set<string>();
  private tokenSeq = 0;
  /** requestId -> conference: Google ignores a createRequest it has already seen. */
  private readonly conferences = new Map<string, any>();
  /** New conferences start `pending` and turn `success` on the next read of the event. */
  pendingConferences = false;
  tokenLifetime = 3599;

  constructor(
    readonly clientId = 'google-client-id.apps.googleusercontent.com',
    readonly clientSecret = 'google-client-secret',
    readonly refreshToken = '1//google-refresh-token',
    readonly calendarId = 'primary',
  ) {
    super();
    this.route('POST', /^\/token$/, (r) => this.token(r));
    this.route('POST', EVENTS, (r) => this.authed(r, () => this.insert(r)));
    this.route('GET', EVENT, (r) => this.authed(r, () => this.withEvent(r, (e) => this.read(e))));
    this.route('PATCH', EVENT, (r) => this.authed(r, () => this.withEvent(r, (e) => this.patch(e, r))));
    this.route('DELETE', EVENT, (r) => this.authed(r, () => this.withEvent(r, (e) => this.remove(e))));
  }

  get tokenRequests(): RecordedRequest[] {
    return this.received('POST', /^\/token$/);
  }

  /** Events that are not cancelled. */
  liveEvents(): FakeEvent[] {
    return [...this.events.values()].filter((e) => e.status === 'confirmed');
  }

  revokeTokens(): void {
    this.validTokens.clear();
  }

  private token(r: RecordedRequest): FakeReply {
    const b = r.body ?? {};
    if (b.client_id !== this.clientId || b.client_secret !== this.clientSecret)
      return { status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
    if (b.grant_type !== 'refresh_token') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    if (b.refresh_token !== this.refreshToken)
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    const token = `ya29.fake-${++this.tokenSeq}`;
    this.validTokens.add(token);
    return {
      status: 200,
      body: { access_token: token, expires_in: this.tokenLifetime, scope: 'https://www.googleapis.com/auth/calendar.events', token_type: 'Bearer' },
    };
  }

  private authed(r: RecordedRequest, then: () => FakeReply): FakeReply {
    const h = r.headers.authorization ?? '';
    if (!h.startsWith('Bearer ') || !this.validTokens.has(h.slice(7)))
      return googleError(401, 'authError', 'Request had invalid authentication credentials.', 'UNAUTHENTICATED');
    const calendar = decodeURIComponent((EVENTS.exec(r.path) ?? EVENT.exec(r.path))?.[1] ?? '');
    if (calendar !== this.calendarId) return googleError(404, 'notFound', 'Not Found');
    return then();
  }

  private conference(requestId: string): any {
    let c = this.conferences.get(requestId);
    if (!c) {
      const code = createHash('sha256').update(requestId).digest('hex');
      const meetCode = `${code.slice(0, 3)}-${code.slice(3, 7)}-${code.slice(7, 10)}`.replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)]!);
      c = { conferenceId: meetCode, uri: `https://meet.google.com/${meetCode}` };
      this.conferences.set(requestId, c);
    }
    return c;
  }

  /** Applies a createRequest the way Google does: only with conferenceDataVersion=1. */
  private applyConference(e: FakeEvent, r: RecordedRequest): void {
    const req = r.body?.conferenceData?.createRequest;
    if (r.query.get('conferenceDataVersion') !== '1' || !req) return;
    const c = this.conference(String(req.requestId));
    e._pending = this.pendingConferences;
    e.conferenceData = {
      createRequest: { requestId: req.requestId, conferenceSolutionKey: req.conferenceSolutionKey, status: { statusCode: e._pending ? 'pending' : 'success' } },
      conferenceSolution: { key: { type: 'hangoutsMeet' }, name: 'Google Meet' },
      ...(!e._pending && this.entry(c)),
    };
    if (e._pending) delete e.hangoutLink;
    else e.hangoutLink = c.uri;
  }

  private entry(c: any) {
    return { conferenceId: c.conferenceId, entryPoints: [{ entryPointType: 'video', uri: c.uri, label: c.uri.replace('https://', '') }] };
  }

  private insert(r: RecordedRequest): FakeReply {
    const b = r.body ?? {};
    const id = b.id ?? createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 26);
    if (!/^[a-v0-9]{5,1024}$/.test(id)) return googleError(400, 'invalid', 'Invalid resource id value.');
    if (this.events.has(id)) return googleError(409, 'duplicate', 'The requested identifier already exists.');
    if (!b.start?.dateTime || !b.end?.dateTime) return googleError(400, 'required', 'Missing time.');
    const now = new Date().toISOString();
    const e: FakeEvent = {
      kind: 'calendar#event',
      id,
      status: 'confirmed',
      summary: b.summary,
      start: b.start,
      end: b.end,
      attendees: b.attendees,
      extendedProperties: b.extendedProperties,
      created: now,
      updated: now,
    };
    this.applyConference(e, r);
    this.events.set(id, e);
    return { status: 200, body: this.view(e) };
  }

  private withEvent(r: RecordedRequest, then: (e: FakeEvent) => FakeReply): FakeReply {
    const id = decodeURIComponent(EVENT.exec(r.path)![2]!);
    const e = this.events.get(id);
    if (!e) return googleError(404, 'notFound', 'Not Found');
    return then(e);
  }

  private read(e: FakeEvent): FakeReply {
    if (e._pending) {
      // Google finishes the conference in the background: the next read sees it done.
      e._pending = false;
      const c = this.conference(String(e.conferenceData.createRequest.requestId));
      e.conferenceData = {
        ...e.conferenceData,
        createRequest: { ...e.conferenceData.createRequest, status: { statusCode: 'success' } },
        ...this.entry(c),
      };
      e.hangoutLink = c.uri;
    }
    return { status: 200, body: this.view(e) };
  }

  private patch(e: FakeEvent, r: RecordedRequest): FakeReply {
    const b = r.body ?? {};
    for (const k of ['summary', 'start', 'end', 'status', 'attendees'] as const) if (b[k] !== undefined) (e as any)[k] = b[k];
    this.applyConference(e, r);
    e.updated = new Date().toISOString();
    return { status: 200, body: this.view(e) };
  }

  private remove(e: FakeEvent): FakeReply {
    if (e.status === 'cancelled') return googleError(410, 'deleted', 'Resource has been deleted');
    e.status = 'cancelled';
    return { status: 204 };
  }

  private view(e: FakeEvent) {
    const { _pending, ...rest } = e;
    return { ...rest, htmlLink: `https://www.google.com/calendar/event?eid=${e.id}`, iCalUID: `${e.id}@google.com` };
  }
}
