// Worker-thread entry of the benchmark's HTTP client. Workers do not inherit tsx's loader, so it is
// registered here before the TypeScript module is imported.
import { register } from 'tsx/esm/api';

register();
const { serveWorker } = await import('./http-client.ts');
serveWorker();
