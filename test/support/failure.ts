import { expect } from 'vitest';
import { ProviderError } from '../../src/contract/errors.js';

/** Resolves to the thrown ProviderError; fails the test if the call succeeds or throws something else. */
export async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => expect.fail('expected a failure'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}
