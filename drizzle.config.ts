import { defineConfig } from 'drizzle-kit';

// Migrations are generated from src/core/db/schema.ts and applied by the service itself
// (`countersign migrate`, or at start) to PGlite and PostgreSQL alike.
export default defineConfig({
  dialect: 'postgresql',
  schema: [
    './src/core/db/schema.ts',
    './src/core/db/peer-tables.ts',
    './src/core/db/collections-tables.ts',
    './src/core/db/dashboard-tables.ts',
  ],
  out: './migrations',
});
