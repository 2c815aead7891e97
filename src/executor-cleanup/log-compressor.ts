import { existsSync } from 'node:fs';
import path from 'node:path';
import { gzipFile } from '../agent/index.js';

/** What compressing a sandbox's logs did. */
export interface CompressResult {
  files: number;
  /** Bytes of the original files. */
  bytesIn: number;
  /** Bytes of the .gz files written. */
  bytesOut: number;
}

/**
 * Gzips each named file of `dir` to `<name>.gz` and removes the original (see gzipFile: a
 * temp file renamed into place, so a crash never leaves a torn .gz). Files that vanished
 * meanwhile are skipped.
 */
export async function compressLogs(dir: string, files: readonly string[]): Promise<CompressResult> {
  const result: CompressResult = { files: 0, bytesIn: 0, bytesOut: 0 };
  for (const name of files) {
    const file = path.join(dir, name);
    if (!existsSync(file)) continue;
    const r = await gzipFile(file);
    result.files += 1;
    result.bytesIn += r.bytesIn;
    result.bytesOut += r.bytesOut;
  }
  return result;
}
