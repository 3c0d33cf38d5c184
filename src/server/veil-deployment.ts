import { setupDemo, type DemoSetupResult } from '../demo/demo-setup.ts';
import { createGateway, type VeilGateway } from '../gateway/index.ts';
import { openRuntime, type RuntimeOptions } from '../runtime/index.ts';

/**
 * One opened home, as the process that runs it sees it: the gateway every door is given, and
 * the bootstrap steps that are not requests (demo data, shutdown). Doors get `gateway` only.
 */
export interface VeilDeployment {
  readonly gateway: VeilGateway;
  readonly homeDirectory: string;
  /** Brings the home to the demo state (data, users, policies); idempotent. */
  setupDemo(rows: number, log?: (line: string) => void): Promise<DemoSetupResult>;
  close(): Promise<void>;
}

export async function openDeployment(homeDir: string | undefined, options: RuntimeOptions = {}): Promise<VeilDeployment> {
  const runtime = await openRuntime(homeDir, options);
  return {
    gateway: createGateway(runtime),
    homeDirectory: runtime.home.root,
    setupDemo: (rows, log) => setupDemo(runtime, rows, log),
    close: () => runtime.close(),
  };
}

/** Opens a home for one piece of work and closes it whatever happens. */
export async function withDeployment<T>(homeDir: string | undefined, work: (deployment: VeilDeployment) => Promise<T>): Promise<T> {
  const deployment = await openDeployment(homeDir);
  try {
    return await work(deployment);
  } finally {
    await deployment.close();
  }
}
