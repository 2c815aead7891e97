import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * Options shared by the runtime loader and `proto-loader-gen-types` (package.json "proto"),
 * so the generated types describe exactly the objects grpc-js hands us.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The `proto/` directory, found from this module whether it runs from `src/` or `dist/`. */
export function protoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'proto');
    if (existsSync(path.join(candidate, 'thales', 'v1'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('proto/thales/v1 not found next to the Thales installation');
}

/** Loads `proto/thales/v1/<file>` and returns the grpc object for its package. */
export function loadProto<T>(file: string): T {
  const definition = protoLoader.loadSync(path.join(protoDir(), 'thales', 'v1', file), {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoDir()],
  });
  return grpc.loadPackageDefinition(definition) as unknown as T;
}
