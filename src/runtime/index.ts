export { openRuntime } from './veil-runtime.ts';
export type { RuntimeOptions, VeilRuntime } from './veil-runtime.ts';
