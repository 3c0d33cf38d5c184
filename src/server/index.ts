/** The server entry of the package: open a home and serve it over HTTP. */
export { openRuntime } from './veil-runtime.ts';
export type { VeilRuntime } from './veil-runtime.ts';
export { createHttpServer } from '../http/index.ts';
