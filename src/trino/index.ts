export { startTrinoListener, parseQuestion, type TrinoListener } from './opa-listener.ts';
