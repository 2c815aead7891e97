import * as grpc from '@grpc/grpc-js';
import { malformedReason, withTolerantDecoding } from '../runtime/index.js';

/**
 * A server interceptor that answers a request whose bytes are not valid protobuf with
 * INVALID_ARGUMENT, before any handler sees it: grpc-js alone answers INTERNAL. Works for every
 * method kind (a stream's malformed message ends the stream), with the decoders that
 * {@link tolerantServices} installs.
 */
export const refuseMalformedRequests: grpc.ServerInterceptor = (_method, call) => {
  const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
    start(next) {
      next(
        new grpc.ServerListenerBuilder()
          .withOnReceiveMessage((message, forward) => {
            const bad = malformedReason(message);
            if (bad === undefined) return forward(message);
            intercepting.sendStatus({
              code: grpc.status.INVALID_ARGUMENT,
              details: `INVALID_ARGUMENT: request: malformed protobuf (${bad})`,
            });
          })
          .build(),
      );
    },
  });
  return intercepting;
};

/**
 * Makes every service added to `server` decode its requests tolerantly (a malformed message
 * becomes a marker that {@link refuseMalformedRequests} refuses), including services that other
 * components add through `addServices`.
 */
export function tolerantServices(server: grpc.Server): grpc.Server {
  const addService = server.addService.bind(server);
  server.addService = (service, implementation) =>
    addService(withTolerantDecoding(service), implementation);
  return server;
}
