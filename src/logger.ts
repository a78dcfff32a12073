import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
/** `auto`: pretty when stdout is a terminal, JSON otherwise (README "Logs"). */
export type LogFormat = 'auto' | 'json' | 'pretty';

export type { Logger };

/** LOG_FORMAT `auto`: readable lines for a person at a terminal, JSON for a log pipeline. */
export function isPretty(format: LogFormat = 'json', stdout: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
}

/**
 * pino-pretty in this thread (not a transport worker): lines are written before
 * `process.exit`, and what it prints has been through the same redaction as JSON lines.
 */
const prettyStream = (destination?: pino.DestinationStream) =>
  pretty({
    ...(destination && { destination }),
    sync: true,
    colorize: !destination && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
    singleLine: true,
  });

/**
 * Keys whose values never reach a log line, wherever they sit in the object:
 * credentials, and message content (bodies, subjects, template variables).
 */
const REDACT_KEYS = [
  'apiKey', 'authToken', 'token', 'accessToken', 'refreshToken', 'clientSecret', 'secret', 'password', 'privateKey', 'private_key',
  'authorization', 'Authorization', 'headers.authorization', 'body', 'html', 'text', 'subject', 'contentVariables',
  'data', 'payload', 'attachments',
];
const REDACT = REDACT_KEYS.flatMap((k) => [k, `*.${k}`]);

/** `[key, value]` rows as an indented two-column block, for multi-line messages at a terminal. */
export function textBlock(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `    ${k.padEnd(width)}  ${v}`).join('\n');
}

export function createLogger(level: string, destination?: pino.DestinationStream, format?: LogFormat): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: serializeError },
    },
    isPretty(format) ? prettyStream(destination) : destination,
  );
}

/** E.164 phone numbers and email addresses, masked inside free text. */
export function maskContacts(text: string): string {
  return text
    .replace(/[^\s"'<>()[\]{},;:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, (m) => maskRecipient(m))
    .replace(/\+[1-9]\d{6,14}/g, (m) => maskRecipient(m));
}

const ERROR_TEXT_MAX = 2_000;
const clip = (s: string) => maskContacts(s.length > ERROR_TEXT_MAX ? `${s.slice(0, ERROR_TEXT_MAX)}…` : s);

/** Error properties that describe the failure and never carry what was being sent. */
const SAFE_SCALARS = ['code', 'errno', 'syscall', 'statusCode', 'status'] as const;

/**
 * The one way an error reaches a log line (pino's `err` serializer; README "Logs").
 * Errors drag along what was being sent when they happened: ioredis puts the command's
 * arguments in `command.args` (a job's phone number and body) and earlier attempts in
 * `previousErrors`, vendor SDKs keep the request or response body. Only the type, the
 * message and stack (contacts masked, clipped), a few scalar codes, the Redis command's
 * name and the cause chain are kept; everything else is dropped, whatever it is called.
 * Strings and `{message}` objects logged under `err` get the same treatment.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (typeof err === 'string') return clip(err);
  if (err === null || typeof err !== 'object') return err;
  const e = err as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (err instanceof Error) out.type = err.constructor?.name ?? err.name;
  if (typeof e.name === 'string' && e.name !== out.type) out.name = e.name;
  if (typeof e.message === 'string') out.message = clip(e.message);
  if (typeof e.stack === 'string') out.stack = clip(e.stack);
  for (const k of SAFE_SCALARS) if (typeof e[k] === 'string' || typeof e[k] === 'number') out[k] = e[k];
  const command = e.command as { name?: unknown } | undefined;
  if (command && typeof command.name === 'string') out.command = command.name;
  if (depth < 3 && e.cause !== undefined) out.cause = serializeError(e.cause, depth + 1);
  if (depth < 3 && Array.isArray(e.errors)) out.errors = e.errors.slice(0, 5).map((x) => serializeError(x, depth + 1));
  return out;
}

/**
 * A child for lines made only of flat, known fields (the per-job outcome line): the same
 * keys redacted, without the nested `*.key` paths, which cannot match a flat line yet cost
 * about 1 µs each on every line (23 µs a line with them, 3 µs without, on the bench machine).
 */
export function flatLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: REDACT_KEYS, censor: '[redacted]' } });
}

/** `+33612345678` -> `+336******78`; `paul.durand@example.com` -> `p***@example.com`. */
export function maskRecipient(value: string): string {
  const v = value.replace(/^whatsapp:/, '');
  if (v.length > 320) return '***'; // no address is this long: junk from a bad payload, kept out of log lines
  const at = v.indexOf('@');
  if (at > 0) return `${v[0]}***${v.slice(at)}`;
  if (v.length <= 6) return '***';
  return `${v.slice(0, 4)}${'*'.repeat(Math.max(3, v.length - 6))}${v.slice(-2)}`;
}

export function maskRecipients(to: string | string[]): string {
  return (Array.isArray(to) ? to : [to]).map(maskRecipient).join(',');
}

/** Masks every email address in free text (vendors' error messages echo them). */
export const maskEmailsIn = (s: string): string => s.replace(/[^\s<>()"'`,;:]+@[^\s<>()"'`,;:]+/g, maskRecipient);

/** Removes anything that looks like a credential from an error message before it is logged or stored. */
export function scrub(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('[redacted]');
  return out.replace(/\+[1-9]\d{6,14}/g, (m) => maskRecipient(m));
}
