import { userInfo } from 'node:os';
import type { RequestScope, VeilGateway } from '../gateway/index.ts';
import { withDeployment, type VeilDeployment } from '../server/index.ts';
import { str } from './cli-support.ts';

/** The CLI as a door: what it says of itself in the audit trail. */
const CLI_CONTEXT = { door: 'cli', clientApplication: 'veil-cli', clientAddress: null } as const;

function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'operator';
  }
}

/**
 * Administration by the local operator of a home (who holds its files): one gateway request,
 * audited with door cli and the operating-system user's name.
 */
export async function asOperator<T>(values: Record<string, unknown>, work: (gateway: VeilGateway, scope: RequestScope, deployment: VeilDeployment) => Promise<T> | T): Promise<T> {
  return withDeployment(str(values, 'home'), async (deployment) => {
    const { gateway } = deployment;
    return gateway.run(gateway.operator(CLI_CONTEXT, operatorName()), (scope) => work(gateway, scope, deployment));
  });
}

/**
 * A request made as a stored user (`--user NAME`): the same policies, checks and audit record as
 * that user's own request through any other door, with door cli.
 */
export async function asUser<T>(values: Record<string, unknown>, user: string, work: (gateway: VeilGateway, scope: RequestScope) => Promise<T> | T): Promise<T> {
  return withDeployment(str(values, 'home'), async ({ gateway }) => {
    const scope = gateway.open(CLI_CONTEXT);
    return gateway.run(scope, async (s) => {
      await gateway.actAs(s, user);
      return work(gateway, s);
    });
  });
}
