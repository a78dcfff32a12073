import { hash } from 'node:crypto';

/** JSON with sorted keys: the same content always hashes the same, whatever the key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** Content hash of an event (its name and validated payload), 16 hex digits. */
export function eventHash(name: string, payload: unknown): string {
  return hash('sha256', `${name}\n${stableJson(payload)}`, 'hex').slice(0, 16);
}
