export { createHttpServer } from './http-server.ts';
export type { HttpServerOptions } from './http-server.ts';
export { negotiateFormat } from './result-writers.ts';
