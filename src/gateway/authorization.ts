import type { Dataset } from '../catalog/index.ts';
import { AccessDeniedError } from '../errors/index.ts';
import type { Principal } from '../identity/index.ts';
import type { RequestScope } from './request-scope.ts';

/**
 * Groups that may read insights besides the admin groups. Insights aggregate everyone's records
 * outside the policy engine, so they are limited to those the built-in audit policies already let
 * read the whole trail (veil-audit-compliance) and to administrators.
 */
export const INSIGHTS_GROUPS: readonly string[] = ['compliance'];

/** Administrative rights, decided in one place for every door. */
export class Authorization {
  constructor(private readonly adminGroups: readonly string[]) {}

  isAdmin(principal: Principal): boolean {
    return principal.groups.some((g) => this.adminGroups.includes(g));
  }

  /** The caller, when they administer this deployment (or are its local operator). */
  requireAdmin(scope: RequestScope): Principal | undefined {
    if (scope.operator) return scope.principal;
    const principal = scope.requirePrincipal();
    if (!this.isAdmin(principal)) throw new AccessDeniedError(`this operation needs membership in one of the admin groups (${this.adminGroups.join(', ')})`);
    return principal;
  }

  /**
   * Documentation, certification and classification decisions of a dataset: its administrators
   * and its named steward. Ownership and stewardship themselves stay with administrators.
   */
  requireSteward(scope: RequestScope, dataset: Dataset): void {
    if (scope.operator) return;
    const principal = scope.requirePrincipal();
    if (this.isAdmin(principal) || (dataset.steward !== undefined && dataset.steward === principal.user)) return;
    throw new AccessDeniedError(`this operation needs the steward of ${dataset.database}.${dataset.name} or an admin group (${this.adminGroups.join(', ')})`);
  }

  mayReadInsights(principal: Principal): boolean {
    return this.isAdmin(principal) || principal.groups.some((g) => INSIGHTS_GROUPS.includes(g));
  }

  requireInsights(scope: RequestScope): void {
    if (scope.operator) return;
    if (!this.mayReadInsights(scope.requirePrincipal())) {
      throw new AccessDeniedError(`audit insights need membership in ${[...INSIGHTS_GROUPS, ...this.adminGroups].join(', ')}`);
    }
  }
}
