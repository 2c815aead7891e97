import path from 'node:path';
import { protoDir } from './proto-loader.js';

/**
 * Where `thales dev` keeps its data and logs: `THALES_DEV_DIR`, else `.thales/dev` in the
 * Thales checkout it runs from. Shared by the dev cluster (which writes it) and the CLI (which
 * reads it), so neither depends on the other.
 */
export function devClusterDir(env = process.env): string {
  return path.resolve(env.THALES_DEV_DIR || path.join(path.dirname(protoDir()), '.thales', 'dev'));
}

/**
 * The file in which `thales dev` lists its replicas' HTTP URLs, one per line: client commands
 * read it when given neither `--api` nor `THALES_API`.
 */
export function devApiUrlsFile(dir = devClusterDir()): string {
  return path.join(dir, 'api-urls');
}
