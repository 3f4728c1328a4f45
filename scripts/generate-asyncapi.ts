/**
 * Writes docs/asyncapi.yaml from the protocol schemas.
 * Run from anywhere: npx tsc -p . && node dist/scripts/generate-asyncapi.js
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { renderAsyncApiYaml } from '../libs/protocol/src/asyncapi';

/** The repo root: the nearest folder with a package.json, whether run from scripts/ or dist/scripts/. */
function repoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const target = join(repoRoot(__dirname), 'docs', 'asyncapi.yaml');
writeFileSync(target, renderAsyncApiYaml());
console.log(`wrote ${relative(process.cwd(), target) || target}`);
