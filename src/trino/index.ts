export { startTrinoListener, parseQuestion, type TrinoListener, type TrinoListenerOptions } from './opa-listener.ts';
