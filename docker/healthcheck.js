// Docker HEALTHCHECK: GET /health/live on the app's own port (PORT, else the app's default
// from CONTRACT §1). The slim image has no curl or wget; Node 24 has fetch.
const DEFAULT_PORTS = { 'api-gateway': 3000, 'auth-service': 3001, 'users-service': 3002 };
const port = process.env.PORT || DEFAULT_PORTS[process.env.APP] || 3000;
fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(2000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
