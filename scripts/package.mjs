#!/usr/bin/env node
// `npm run package [-- --version V] [--out DIR] [--no-build]`: one versioned release tarball
// that a machine with Node.js 20 runs without npm or the source tree (docs/deploy.md).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => console.log(`[package] ${line}`);
const die = (line) => {
  console.error(`[package] error: ${line}`);
  process.exit(1);
};

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      version: { type: 'string' },
      out: { type: 'string', default: path.join(root, 'dist', 'release') },
      'no-build': { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  die(`${err.message}\nusage: npm run package [-- --version V] [--out DIR] [--no-build]`);
}

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const version = values.version ?? pkg.version;
// Semver, so that release directories sort and compare the way operators expect.
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version)) {
  die(`--version: '${version}' is not a semantic version (e.g. 1.2.3 or 1.2.3-rc.1)`);
}

/** Runs a command in `cwd`; its output is shown only when it fails. */
function run(cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} failed:\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.stdout.trim();
}

/** The commit the tree was built from, and whether tracked files differed from it. */
function commitOf() {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return { commit: 'unknown', dirty: false };
  const status = run('git', ['status', '--porcelain', '--untracked-files=no']);
  return { commit: head.stdout.trim(), dirty: status !== '' };
}

/**
 * `npm ci --omit=dev` in the staged release, from the lock file. The result is cached under
 * dist/.package-cache by the lock file's hash: packaging the same tree again (another version,
 * the upgrade test's N+1) copies it instead of installing it again.
 */
function installProductionDependencies(stage, lock) {
  // The dependencies' entries only: the root's (its version) differs from one package to the next.
  const deps = Object.entries(lock.packages ?? {}).filter(([where]) => where !== '');
  const key = createHash('sha256').update(JSON.stringify(deps)).digest('hex');
  const cache = path.join(root, 'dist', '.package-cache', `node_modules-${key.slice(0, 16)}`);
  if (existsSync(cache)) {
    say('production dependencies from the cache (same lock file)');
    cpSync(cache, path.join(stage, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    return;
  }
  say('installing production dependencies (npm ci --omit=dev)');
  const flags = ['--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'];
  run('npm', ['ci', '--omit=dev', ...flags, '--loglevel=error'], stage);
  // Filled under a temporary name, then renamed: a concurrent run never sees half a cache.
  const filling = `${cache}.${process.pid}`;
  cpSync(path.join(stage, 'node_modules'), filling, { recursive: true, verbatimSymlinks: true });
  try {
    renameSync(filling, cache);
  } catch {
    rmSync(filling, { recursive: true, force: true }); // another run filled it first
  }
}

if (!values['no-build']) {
  say('building');
  run('npm', ['run', '-s', 'build']);
}
if (!existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) {
  die('dist/src/cli/main.js is missing: run `npm run build` (or drop --no-build)');
}

const name = `thales-${version}`;
const out = path.resolve(values.out);
mkdirSync(out, { recursive: true });
const stageParent = mkdtempSync(path.join(out, '.stage-'));
const stage = path.join(stageParent, name);
try {
  say(`staging ${name}`);
  // The runtime finds proto/ and package.json by walking up from dist/src (repoRoot, protoDir).
  cpSync(path.join(root, 'dist', 'src'), path.join(stage, 'dist', 'src'), { recursive: true });
  for (const dir of ['proto', 'bin', 'examples', path.join('deploy', 'systemd')]) {
    cpSync(path.join(root, dir), path.join(stage, dir), { recursive: true });
  }
  for (const file of ['README.md']) cpSync(path.join(root, file), path.join(stage, file));
  const released = {
    name: pkg.name,
    version,
    description: pkg.description,
    type: pkg.type,
    private: true,
    license: pkg.license,
    engines: pkg.engines,
    bin: pkg.bin,
    dependencies: pkg.dependencies,
  };
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(released, null, 2)}\n`);
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  lock.version = version;
  if (lock.packages?.['']) lock.packages[''].version = version;
  writeFileSync(path.join(stage, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);

  installProductionDependencies(stage, lock);

  const { commit, dirty } = commitOf();
  const buildInfo = { name: pkg.name, version, commit, dirty, builtAt: new Date().toISOString() };
  writeFileSync(path.join(stage, 'build-info.json'), `${JSON.stringify(buildInfo, null, 2)}\n`);
  // The artifact must run from its own files: ask it for its version before shipping it.
  const reported = run(process.execPath, [path.join(stage, 'bin', 'thales'), 'version'], '/');
  if (!reported.includes(version) || !reported.includes(commit.slice(0, 12))) {
    die(`the staged release reports '${reported}', not version ${version} commit ${commit}`);
  }

  const tarball = path.join(out, `${name}.tar.gz`);
  // Sorted names and owner root: what is unpacked does not depend on who built it.
  run('tar', [
    // Source maps and type declarations are not needed to run: a third fewer files to unpack.
    '--exclude=*.map',
    '--exclude=*.d.ts',
    '--exclude=*.d.mts',
    '--exclude=*.d.cts',
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-czf',
    tarball,
    '-C',
    stageParent,
    name,
  ]);
  const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  writeFileSync(`${tarball}.sha256`, `${sha256}  ${name}.tar.gz\n`);
  say(`${tarball} (sha256 ${sha256})`);
  say(reported);
} finally {
  rmSync(stageParent, { recursive: true, force: true });
}
