import { existsSync, readFileSync } from 'node:fs';
import { devApiUrlsFile } from '../runtime/index.js';
import { CliError, EXIT } from './exit-codes.js';

/** The scheduler's default HTTP address, tried when nothing says where the cluster is. */
export const DEFAULT_API = 'http://127.0.0.1:7070';

/** Where the CLI will talk to, and what said so (for error messages). */
export interface ApiTarget {
  urls: string[];
  source: string;
}

/**
 * The one client discovery of every command: `--api` (comma-separated), else `THALES_API`,
 * else the replicas a running `thales dev` listed, else the default address.
 */
export function discoverApi(flag: string | undefined, env = process.env): ApiTarget {
  const split = (list: string): string[] =>
    list
      .split(/[,\s]+/)
      .map((url) => url.trim().replace(/\/+$/, ''))
      .filter(Boolean);
  if (flag !== undefined) return { urls: checked(split(flag), '--api'), source: '--api' };
  if (env.THALES_API)
    return { urls: checked(split(env.THALES_API), 'THALES_API'), source: 'THALES_API' };
  const file = devApiUrlsFile();
  if (existsSync(file)) {
    const urls = split(readFileSync(file, 'utf8'));
    if (urls.length) return { urls, source: `the dev cluster file ${file}` };
  }
  return { urls: [DEFAULT_API], source: `the default (no --api, THALES_API or ${file})` };
}

function checked(urls: string[], source: string): string[] {
  if (!urls.length) throw new CliError(`${source}: no URL given`, EXIT.USAGE);
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(`${source}: ${url} is not a URL (expected http://host:port)`, EXIT.USAGE);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CliError(`${source}: ${url} is not an http(s) URL`, EXIT.USAGE);
    }
  }
  return urls;
}

/** An error answer of the API. */
interface ErrorAnswer {
  error?: { code?: string; message?: string };
}

/**
 * Calls the HTTP API on the first replica that answers (any replica serves every call). A
 * replica that cannot be reached is skipped; one that answers an error ends the call with it.
 */
export class ApiClient {
  constructor(
    readonly target: ApiTarget,
    private readonly timeoutMs = 10_000,
  ) {}

  /** `method path` with an optional JSON body; resolves with the parsed answer. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const failures: string[] = [];
    for (const base of this.target.urls) {
      const url = `${base}${path}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        failures.push(`${url}: ${reasonOf(err, this.timeoutMs)}`);
        continue;
      }
      const text = await res.text();
      const json = parseJson(text);
      if (res.ok) return json as T;
      const error = (json as ErrorAnswer | undefined)?.error;
      const what = error?.code
        ? `${res.status} ${error.code}: ${error.message ?? ''}`
        : `${res.status} ${text.slice(0, 200)}`;
      throw new CliError(
        `${method} ${url} answered ${what}`,
        res.status >= 500 ? EXIT.SERVER_ERROR : EXIT.REFUSED,
      );
    }
    throw new CliError(
      `no replica answered (from ${this.target.source}):\n  ${failures.join('\n  ')}`,
      EXIT.UNREACHABLE,
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Why a fetch failed, in words: the OS error code and message, or the timeout. */
function reasonOf(err: unknown, timeoutMs: number): string {
  const failure = err as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError')
    return `no answer within ${timeoutMs} ms`;
  const cause = failure.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? failure.message ?? String(err);
}
