import { expect } from 'chai';

/** The Error a promise rejects with; fails the test when it resolves, rethrows what is not an Error. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err: unknown) {
    if (err instanceof Error) return err;
    throw err;
  }
  expect.fail('expected a rejection');
}
