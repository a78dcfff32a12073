import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
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
  /** Fake-only: whose calendar holds it: the delegated user (`sub`), or `FakeGoogle.ACCOUNT`. */
  calendar: string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The audience Google's token endpoint expects in a JWT-bearer assertion (google-auth-library signs it). */
const GOOGLE_TOKEN_AUD = 'https://oauth2.googleapis.com/token';
const CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar';

const b64json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

const googleError = (code: number, reason: string, message: string, status = ''): FakeReply => ({
  status: code,
  body: { error: { code, message, errors: [{ domain: 'global', reason, message }], ...(status && { status }) } },
});

const EVENTS = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/;
const EVENT = /^\/calendar\/v3\/calendars\/([^/]+)\/events\/([^/]+)$/;

/**
 * Google: the OAuth 2.0 token endpoint (`POST /token`: the refresh_token grant, and the
 * JWT-bearer grant of a service account with domain-wide delegation, its RS256 signature
 * checked against the account's public key, acting as the assertion's `sub`) and the
 * Calendar v3 events resource (insert, get, patch, delete). Like Google, it answers 409
 * to an insert whose id exists (deleted events included: their id stays taken), ignores
 * conference data without `conferenceDataVersion=1`, and can create conferences `pending`.
 */
export class FakeGoogle extends FakeServer {
  /** The calendar owner of the refresh-token account. */
  static readonly ACCOUNT = 'refresh-token-account';
  /** Calendars by owner (`ACCOUNT` or a delegated user's email), each its events by id. */
  readonly calendars = new Map<string, Map<string, FakeEvent>>();
  /** Access token -> whose calendar it opens. */
  private readonly validTokens = new Map<string, string>();
  /** The service account allowed the JWT-bearer grant. */
  serviceAccount?: { clientEmail: string; publicKey: KeyObject };
  /** Users the domain admin has not delegated to: their grant gets `unauthorized_client`. */
  readonly refusedSubs = new Set<string>();
  /** Addresses Google knows no user for (outside the domain): their grant gets `invalid_grant`. */
  readonly unknownSubs = new Set<string>();
  /** JWT-bearer token requests per `sub`, refused ones included. */
  readonly tokenRequestsBySub = new Map<string, number>();
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
    this.route('POST', EVENTS, (r) => this.authed(r, (events, owner) => this.insert(r, events, owner)));
    this.route('GET', EVENT, (r) => this.authed(r, (events) => this.withEvent(r, events, (e) => this.read(e))));
    this.route('PATCH', EVENT, (r) => this.authed(r, (events) => this.withEvent(r, events, (e) => this.patch(e, r))));
    this.route('DELETE', EVENT, (r) => this.authed(r, (events) => this.withEvent(r, events, (e) => this.remove(e))));
  }

  get tokenRequests(): RecordedRequest[] {
    return this.received('POST', /^\/token$/);
  }

  /** The refresh-token account's events. */
  get events(): Map<string, FakeEvent> {
    return this.calendarOf(FakeGoogle.ACCOUNT);
  }

  /** Events in a user's (or `ACCOUNT`'s) calendar. */
  calendarOf(owner: string): Map<string, FakeEvent> {
    const key = owner.toLowerCase();
    let c = this.calendars.get(key);
    if (!c) this.calendars.set(key, (c = new Map()));
    return c;
  }

  /** Trust a service account: its JWT assertions are checked against this public key (PEM or KeyObject). */
  trustServiceAccount(clientEmail: string, publicKey: string | KeyObject): void {
    this.serviceAccount = { clientEmail, publicKey: typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey };
  }

  /** Events that are not cancelled, in every calendar. */
  liveEvents(): FakeEvent[] {
    return [...this.calendars.values()].flatMap((c) => [...c.values()]).filter((e) => e.status === 'confirmed');
  }

  revokeTokens(): void {
    this.validTokens.clear();
  }

  private token(r: RecordedRequest): FakeReply {
    const b = r.body ?? {};
    if (b.grant_type === JWT_BEARER) return this.jwtBearer(String(b.assertion ?? ''));
    if (b.client_id !== this.clientId || b.client_secret !== this.clientSecret)
      return { status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
    if (b.grant_type !== 'refresh_token') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    if (b.refresh_token !== this.refreshToken)
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    return this.issue(FakeGoogle.ACCOUNT, { scope: 'https://www.googleapis.com/auth/calendar.events' });
  }

  private issue(owner: string, extra: Record<string, unknown> = {}): FakeReply {
    const token = `ya29.fake-${++this.tokenSeq}`;
    this.validTokens.set(token, owner);
    return { status: 200, body: { access_token: token, expires_in: this.tokenLifetime, token_type: 'Bearer', ...extra } };
  }

  /** The service-account grant, checked the way Google does: signature, issuer, audience, expiry, scope, delegation. */
  private jwtBearer(assertion: string): FakeReply {
    const invalid = (why: string): FakeReply => ({ status: 400, body: { error: 'invalid_grant', error_description: why } });
    const [h, p, sig] = assertion.split('.');
    if (!h || !p || !sig) return invalid('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.');
    let header: any;
    let claims: any;
    try {
      header = b64json(h);
      claims = b64json(p);
    } catch {
      return invalid('Invalid JWT.');
    }
    const sa = this.serviceAccount;
    if (!sa || claims.iss !== sa.clientEmail) return { status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
    if (header.alg !== 'RS256' || !verify('RSA-SHA256', Buffer.from(`${h}.${p}`), sa.publicKey, Buffer.from(sig, 'base64url')))
      return invalid('Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    if (claims.aud !== GOOGLE_TOKEN_AUD) return invalid('Invalid JWT: aud is not the token endpoint.');
    if (typeof claims.exp !== 'number' || claims.exp < now || claims.exp - (claims.iat ?? 0) > 3600)
      return invalid('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    const sub = String(claims.sub ?? '').toLowerCase();
    if (sub) this.tokenRequestsBySub.set(sub, (this.tokenRequestsBySub.get(sub) ?? 0) + 1);
    if (!String(claims.scope ?? '').split(' ').includes(CALENDAR_SCOPE)) return { status: 400, body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope.' } };
    if (!sub) return invalid('This fake only grants delegated tokens: sub is required.');
    if (this.unknownSubs.has(sub)) return invalid('Invalid email or User ID');
    if (this.refusedSubs.has(sub))
      return {
        status: 401,
        body: {
          error: 'unauthorized_client',
          error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
        },
      };
    return this.issue(sub);
  }

  private authed(r: RecordedRequest, then: (events: Map<string, FakeEvent>, owner: string) => FakeReply): FakeReply {
    const h = r.headers.authorization ?? '';
    const owner = h.startsWith('Bearer ') ? this.validTokens.get(h.slice(7)) : undefined;
    if (!owner) return googleError(401, 'authError', 'Request had invalid authentication credentials.', 'UNAUTHENTICATED');
    const calendar = decodeURIComponent((EVENTS.exec(r.path) ?? EVENT.exec(r.path))?.[1] ?? '');
    // The account sees its configured calendar; a delegated user sees its own ('primary' or its email).
    const mine = owner === FakeGoogle.ACCOUNT ? calendar === this.calendarId : calendar === 'primary' || calendar.toLowerCase() === owner;
    if (!mine) return googleError(404, 'notFound', 'Not Found');
    return then(this.calendarOf(owner), owner);
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

  private insert(r: RecordedRequest, events: Map<string, FakeEvent>, owner: string): FakeReply {
    const b = r.body ?? {};
    const id = b.id ?? createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 26);
    if (!/^[a-v0-9]{5,1024}$/.test(id)) return googleError(400, 'invalid', 'Invalid resource id value.');
    if (events.has(id)) return googleError(409, 'duplicate', 'The requested identifier already exists.');
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
      calendar: owner,
    };
    this.applyConference(e, r);
    events.set(id, e);
    return { status: 200, body: this.view(e) };
  }

  private withEvent(r: RecordedRequest, events: Map<string, FakeEvent>, then: (e: FakeEvent) => FakeReply): FakeReply {
    const id = decodeURIComponent(EVENT.exec(r.path)![2]!);
    const e = events.get(id);
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
    const { _pending, calendar, ...rest } = e;
    const organizer = { email: calendar === FakeGoogle.ACCOUNT ? this.calendarId : calendar, self: true };
    return { ...rest, organizer, htmlLink: `https://www.google.com/calendar/event?eid=${e.id}`, iCalUID: `${e.id}@google.com` };
  }
}
