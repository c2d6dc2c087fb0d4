// The built-in fleet dashboard (issue 18): static assets served by the API server under /dashboard/.
export { dashboardRoutes } from "./routes.ts";
export { dashboardAssets } from "./assets.ts";
