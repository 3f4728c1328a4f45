#!/usr/bin/env node
// `prisma generate` without network: the Prisma 7 CLI wants its native schema
// engine for generate, yet generation itself does not use it, so any existing
// file satisfies the check (shared/ARCHITECTURE.md, "Offline facts"). The
// variable is set for this one command only.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const result = spawnSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: join(root, 'package.json'), PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
process.exit(result.status ?? 1);
