#!/usr/bin/env node
// `npm run bench -- <name> [args…]`: builds, then runs bench/<name>/index.ts compiled to dist.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
const names = readdirSync(path.join(root, 'bench'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- <name>, where <name> is one of: ${names.join(', ')}`);
  process.exit(2);
}
const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const entry = path.join(root, 'dist', 'bench', name, 'index.js');
if (!existsSync(entry)) {
  console.error(`bench ${name}: ${entry} was not built`);
  process.exit(1);
}
const run = spawnSync(process.execPath, [entry, ...args], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
