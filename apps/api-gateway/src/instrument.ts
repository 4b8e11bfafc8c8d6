// Loaded first by main.ts, before anything that loads http or express, so that tracing and
// error reporting can hook those modules. Telemetry start-up is added here by the tracing
// and Sentry work; until then this module only fixes the load order.
export {};
