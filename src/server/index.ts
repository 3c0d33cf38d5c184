/** The server entry of the package: open a home, and serve it through its doors. */
export { openDeployment, withDeployment, type VeilDeployment } from './veil-deployment.ts';
export { openRuntime } from '../runtime/index.ts';
export type { VeilRuntime } from '../runtime/index.ts';
export { createGateway, type VeilGateway } from '../gateway/index.ts';
export { createHttpServer } from '../http/index.ts';
