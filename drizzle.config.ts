// drizzle-kit (pinned in package.json so the migrations folder format stays stable) generates the SQL migrations
// of the SQLite store from its TypeScript schema: `bun run db:generate`.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./internal/store/sqlite/schema.ts",
  out: "./migrations",
});
