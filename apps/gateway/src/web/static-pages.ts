import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';

/**
 * The web pages live as plain files in apps/gateway/web (no build step). The
 * compiled gateway runs from dist/apps/gateway/src, the sources from
 * apps/gateway/src: the folder is looked up from either.
 */
export function webRoot(): string {
  const candidates = [join(__dirname, '../../web'), join(__dirname, '../../../../../apps/gateway/web')];
  const found = candidates.find((dir) => existsSync(join(dir, 'lib', 'jifen.js')));
  if (!found) throw new Error(`the gateway's web pages were not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Serves the pages under /ui/ and the charting library under /ui/vendor/uplot/. */
export function serveWebPages(app: NestExpressApplication): void {
  const cache = { maxAge: '5m', index: 'index.html' } as const;
  app.useStaticAssets(join(dirname(require.resolve('uplot/package.json')), 'dist'), { prefix: '/ui/vendor/uplot/', ...cache });
  app.useStaticAssets(webRoot(), { prefix: '/ui/', ...cache });
}
