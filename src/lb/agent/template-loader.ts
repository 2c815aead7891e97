import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_TEMPLATE, type NginxTemplate } from './nginx-renderer.js';

/**
 * Loads templates from a directory: `<name>.upstream.tmpl`, `<name>.location.tmpl` and
 * optionally `<name>.empty.tmpl`; a part that is missing falls back to the default's.
 */
export function loadTemplates(dir: string): Record<string, NginxTemplate> {
  const out: Record<string, NginxTemplate> = {};
  for (const file of readdirSync(dir)) {
    const m = /^([A-Za-z0-9_-]+)\.(upstream|location|empty)\.tmpl$/.exec(file);
    if (!m) continue;
    const [, name, part] = m as unknown as [string, string, 'upstream' | 'location' | 'empty'];
    const t = (out[name] ??= { ...DEFAULT_TEMPLATE });
    const text = readFileSync(path.join(dir, file), 'utf8');
    if (part === 'empty') t.emptyLocation = text;
    else t[part] = text;
  }
  return out;
}
