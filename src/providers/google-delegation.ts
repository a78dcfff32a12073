import { JWT } from 'google-auth-library';
import { maskRecipient } from '../logger.js';

/** The fields of a service account's JSON key this service uses. */
export interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  /** The numeric OAuth client id the Workspace admin authorises (the key's `client_id`). */
  clientId?: string;
}

/** The scope domain-wide delegation must grant (README "Meetings owned by the host"). */
export const CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar';

/** google-auth-library's JWT client always posts its grant here, whatever the options say. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

type Transporter = { interceptors: { request: { add(i: { resolved: (o: any) => Promise<any> }): void } } };

/**
 * Every request the client sends goes without the library's own retries (it retries token
 * POSTs too): the queue owns retries, backoff and 429 pauses. `rewrite` may redirect it.
 */
export function withoutLibraryRetries(transporter: Transporter, rewrite?: (o: any) => void): void {
  transporter.interceptors.request.add({
    resolved: async (o) => {
      o.retry = false;
      o.retryConfig = { ...o.retryConfig, retry: 0, noResponseRetries: 0 };
      rewrite?.(o);
      return o;
    },
  });
}

/**
 * A JWT-bearer client acting as `host` (`sub`), Calendar scope. It caches its token and
 * single-flights its renewal, so one client per host means one token request per host.
 * The grant goes to `tokenUrl` (GOOGLE_OAUTH_TOKEN_URL) through a request interceptor.
 */
export function delegatedClient(sa: ServiceAccount, host: string, tokenUrl: string, timeoutMs: number): JWT {
  const jwt = new JWT({
    email: sa.clientEmail,
    key: sa.privateKey,
    scopes: [CALENDAR_SCOPE],
    subject: host,
    transporterOptions: { timeout: timeoutMs },
  });
  withoutLibraryRetries(jwt.transporter, (o) => {
    if (tokenUrl !== GOOGLE_TOKEN_URL && String(o.url) === GOOGLE_TOKEN_URL) o.url = new URL(tokenUrl);
  });
  return jwt;
}

/** What the Workspace admin must grant when Google answers `unauthorized_client`. */
export function delegationHelp(sa: ServiceAccount | undefined, host: string): string {
  const client = sa?.clientId ? `client ID ${sa.clientId}` : "the service account's client ID (client_id in its JSON key)";
  return (
    `domain-wide delegation refused acting as ${maskRecipient(host)} (unauthorized_client): in the Google Admin console, ` +
    `Security > Access and data control > API controls > Domain-wide delegation, authorise ${client} for the scope ${CALENDAR_SCOPE}`
  );
}
