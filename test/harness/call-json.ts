/** A JSON call over HTTP, free of vitest so the benches can use it too. */

/** A JSON call; returns status and parsed body. */
export async function callJson(
  url: string,
  method: string,
  body?: unknown,
  timeoutMs = 10_000,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read fields freely
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}
