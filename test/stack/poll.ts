/**
 * Waiting for a condition in tests: reads `get` until `done` holds or the deadline passes (then fails with what it
 * last read). Polling a condition, never sleeping for a time as synchronisation.
 */
export async function poll<T>(
  what: string,
  get: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: timed out; last ${JSON.stringify(v)?.slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
