import { readFileSync } from 'node:fs';

/** What `npm run package` records about a release (`build-info.json` next to package.json). */
export interface BuildInfo {
  version: string;
  /** The git commit the release was built from, or `unknown` outside a packaged release. */
  commit: string;
  /** Tracked files differed from the commit when it was packaged. */
  dirty: boolean;
  builtAt?: string;
}

// Candidates for the directory holding package.json, from `src/` or `dist/src/`.
const ROOTS = ['../../', '../../../'];

/** The Thales version and commit: from build-info.json in a release, else package.json. */
export const BUILD_INFO: BuildInfo = readBuildInfo();

/** The Thales version, from package.json (found from `src/` or `dist/src/`). */
export const THALES_VERSION: string = BUILD_INFO.version;

/** One line for `thales version`: the version, then the commit it was built from. */
export function describeBuild(info: BuildInfo = BUILD_INFO): string {
  if (info.commit === 'unknown')
    return `thales ${info.version} (not a packaged release: no commit)`;
  const dirty = info.dirty ? ', with uncommitted changes' : '';
  const built = info.builtAt ? `, built ${info.builtAt}` : '';
  return `thales ${info.version} (commit ${info.commit}${dirty}${built})`;
}

function readBuildInfo(): BuildInfo {
  for (const rel of ROOTS) {
    const pkg = readJson(new URL(`${rel}package.json`, import.meta.url));
    if (pkg?.name !== 'thales' || typeof pkg.version !== 'string') continue;
    const info = readJson(new URL(`${rel}build-info.json`, import.meta.url));
    return {
      version: pkg.version,
      commit: typeof info?.commit === 'string' ? info.commit : 'unknown',
      dirty: info?.dirty === true,
      ...(typeof info?.builtAt === 'string' ? { builtAt: info.builtAt } : {}),
    };
  }
  return { version: '0.0.0-unknown', commit: 'unknown', dirty: false };
}

function readJson(url: URL): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // absent (e.g. no build-info.json in a source tree): try the next
  }
}
