export { VeilHome, DEFAULT_SETTINGS } from './veil-home.ts';
export type { VeilSettings, VeilKeys } from './veil-home.ts';
