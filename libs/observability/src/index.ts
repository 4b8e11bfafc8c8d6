export * from './errors/all-exceptions.filter';
export * from './errors/error-body';
export * from './logging/redaction.constants';
export * from './logging/request-id';
export * from './observability-options.interface';
export * from './observability.constants';
export * from './observability.module';
export { OBSERVABILITY_OPTIONS } from './observability.module-definition';
export * from './tracing/trace-ids';
