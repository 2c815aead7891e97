import * as grpc from '@grpc/grpc-js';

/** Binds `server` to `host:port`; rejects with a message naming the port on failure. */
export async function bindGrpcServer(
  server: grpc.Server,
  host: string,
  port: number,
  what = 'grpc',
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (!err) return resolve();
      const inUse = /EADDRINUSE|address already in use|No address added/i.test(err.message);
      reject(
        new Error(
          inUse
            ? `${what}.port ${port} is already in use on ${host}`
            : `${what}: cannot listen on ${host}:${port}: ${err.message}`,
        ),
      );
    });
  });
}

/** Stops the gRPC server, letting calls in flight finish for up to `graceMs`. */
export async function stopGrpcServer(server: grpc.Server, graceMs = 2_000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Calls `onClosed` when a bidirectional stream ends in any way (client half-close, error,
 * cancellation, transport close), and answers a client half-close by closing our side too.
 * `onClosed` may run more than once; it must be idempotent.
 */
export function whenStreamCloses(
  call: { on(event: string, listener: () => void): unknown; end(): void },
  onClosed: () => void,
): void {
  call.on('end', () => {
    onClosed();
    call.end();
  });
  for (const event of ['error', 'cancelled', 'close']) call.on(event, onClosed);
}
