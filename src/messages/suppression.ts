import { permanent } from '../contract/errors.js';
import type { SuppressionChannel, SuppressionReason } from '../contract/delivery.js';

/** What a send needs of the suppression list (README "Suppression list"); wired by the feature. */
export interface SuppressionCheck {
  /** The suppressed ones among `recipients`, and why. */
  among(channel: SuppressionChannel, recipients: readonly string[]): Promise<Map<string, SuppressionReason>>;
  /** Twilio said 21610 (the number sent STOP): remember it. */
  optedOut(channel: 'sms' | 'whatsapp', recipient: string): Promise<void>;
}

/** Fails a send to a suppressed recipient at once, one attempt, calling no provider. */
export async function refuseSuppressed(check: SuppressionCheck | undefined, channel: SuppressionChannel, to: string): Promise<void> {
  const reason = (await check?.among(channel, [to]))?.get(to);
  if (reason) throw permanent('RECIPIENT_SUPPRESSED', reason);
}

/** Runs a Twilio send; a 21610 answer puts the number on the list before the job fails. */
export async function rememberOptOut<T>(check: SuppressionCheck | undefined, channel: 'sms' | 'whatsapp', to: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (check && (err as { code?: unknown })?.code === 'RECIPIENT_OPTED_OUT') await check.optedOut(channel, to);
    throw err;
  }
}
