import { defineConfig } from 'prisma/config';

// The CLI is used for `generate` only; migrations are applied in process at start-up
// (libs/persistence/src/migrate.ts), so no datasource URL is needed here.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
