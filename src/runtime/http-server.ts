import type http from 'node:http';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { ERROR_STATUS, toCodedError } from './error-codes.js';

/**
 * Koa middleware that answers every thrown error with its registry status and JSON body
 * (`{error:{code,message,…}}`); unknown errors are INTERNAL and logged with their cause.
 */
export function errorAnswers(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const coded = toCodedError(err);
      if (coded.code === 'INTERNAL') logger.error({ err, path: ctx.path }, 'request failed');
      ctx.status = ERROR_STATUS[coded.code].http;
      ctx.body = coded.toJSON();
    }
  };
}

/** Listens, turning EADDRINUSE and friends into an error that names the address. */
export function listen(
  server: http.Server,
  host: string,
  port: number,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `${what}.port ${port} is already in use on ${host}`
            : `${what}: cannot listen on ${host}:${port}: ${err.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops accepting connections and lets in-flight requests finish (bounded). */
export async function closeHttpServer(server: http.Server, graceMs = 5_000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}
