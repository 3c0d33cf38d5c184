import { readFileSync, writeFileSync } from 'node:fs';
import { createCheckpoint, exportAudit, openAuditDatabase, parseCheckpoint, pruneAudit, verifyAuditStore, verifyCheckpoint, type AuditExportFormat, type PruneResult } from '../audit/index.ts';
import { AuditTamperedError, InvalidRequestError } from '../errors/index.ts';
import { VeilHome } from '../home/index.ts';
import { ApiTokenStore, Authenticator, LocalTokenIssuer, OidcProvider, parseOidcProviders, UserStore, type ApiTokenInfo } from '../identity/index.ts';
import { bumpGeneration, openControlDatabase } from '../store/index.ts';

/**
 * What the local operator of a home does without starting the engine, so that it is instant:
 * tokens, and the audit trail's verification, export, retention and checkpoints. Whoever runs
 * these holds the home's files (and with them its keys); nothing here is reachable from a network door.
 */
export class HomeOperator {
  private constructor(private readonly home: VeilHome) {}

  static open(homeDir: string | undefined): HomeOperator {
    const home = VeilHome.fromOptions(homeDir);
    home.ensure();
    return new HomeOperator(home);
  }

  /** A signed local token for a stored user. */
  issueToken(user: string, ttlSeconds?: number): string {
    return this.withControlDb((db) => {
      new UserStore(db).get(user);
      const ttl = ttlSeconds ?? this.home.loadSettings().tokenTtlSeconds;
      if (!Number.isInteger(ttl) || ttl <= 0) throw new InvalidRequestError('--ttl must be a positive number of seconds');
      return new LocalTokenIssuer(this.home.loadKeys().tokenSigning).issue(user, ttl);
    });
  }

  /** Who a token makes its holder (OIDC, API or local), or why it is refused. */
  async inspectToken(token: string): Promise<Record<string, unknown>> {
    const settings = this.home.loadSettings();
    const providers = parseOidcProviders(settings.oidcProviders, this.home.root, this.home.settingsPath).map((config) => new OidcProvider(config));
    await Promise.all(providers.map((p) => p.start()));
    try {
      return this.withControlDb((db) => {
        const authenticator = new Authenticator(new LocalTokenIssuer(this.home.loadKeys().tokenSigning), new UserStore(db), new ApiTokenStore(db), providers, settings.adminGroups);
        const { principal, method, via } = authenticator.authenticateCredential(token);
        return { ...principal, authenticated_by: { method, via } };
      });
    } finally {
      for (const provider of providers) provider.close();
    }
  }

  createApiToken(user: string, label: string, expiresInDays?: number): { token: string; info: ApiTokenInfo } {
    return this.withControlDb((db) => {
      new UserStore(db).get(user);
      return new ApiTokenStore(db).create({ user, label, createdBy: 'cli', ...(expiresInDays === undefined ? {} : { expiresInDays }) });
    });
  }

  listApiTokens(user?: string): ApiTokenInfo[] {
    return this.withControlDb((db) => new ApiTokenStore(db).list(user));
  }

  revokeApiToken(id: string): ApiTokenInfo {
    return this.withControlDb((db) => new ApiTokenStore(db).revoke(id));
  }

  /** Checks the audit hash chain (and a signed checkpoint); throws AuditTamperedError naming the first altered record. */
  verifyAudit(checkpointFile?: string): Record<string, unknown> {
    const db = openAuditDatabase(this.home.auditDatabasePath, { readonly: true });
    try {
      const result = verifyAuditStore(db, this.home.loadKeys().auditChain, { anchorKey: this.home.loadAuditSigningKey() });
      const checkpoint = checkpointFile === undefined ? undefined : verifyCheckpoint(db, parseCheckpoint(readFileSync(checkpointFile, 'utf8'), checkpointFile), this.home.loadAuditSigningKey());
      const report = { ...result, ...(checkpoint === undefined ? {} : { checkpoint }) };
      if (result.first_break !== null) {
        const b = result.first_break;
        throw new AuditTamperedError(
          `the audit trail was altered at ${b.record_seq === null ? '' : `record ${b.record_seq}`}${b.request_id === null ? '' : ` (request ${b.request_id})`}${b.event_seq === null ? '' : `, chain event ${b.event_seq}`}: ${b.reason}`,
          { report },
        );
      }
      if (checkpoint !== undefined && !checkpoint.ok) throw new AuditTamperedError(checkpoint.reason, { report });
      return report;
    } finally {
      db.close();
    }
  }

  async exportAudit(out: string, options: { format: AuditExportFormat; since?: string; until?: string }): Promise<number> {
    const db = openAuditDatabase(this.home.auditDatabasePath, { readonly: true });
    try {
      return await exportAudit(db, out, options);
    } finally {
      db.close();
    }
  }

  async pruneAudit(before: Date, exportFile?: string): Promise<PruneResult> {
    const db = openAuditDatabase(this.home.auditDatabasePath);
    try {
      if (exportFile !== undefined) await exportAudit(db, exportFile, { format: 'jsonl', until: before.toISOString() });
      return pruneAudit(db, this.home.loadAuditSigningKey(), before);
    } finally {
      db.close();
    }
  }

  /** The chain head signed with the home's audit key, as text; written to `out` (never overwritten) when given. */
  checkpoint(out?: string): string {
    const db = openAuditDatabase(this.home.auditDatabasePath, { readonly: true });
    try {
      const text = `${JSON.stringify(createCheckpoint(db, this.home.loadAuditSigningKey()), null, 2)}\n`;
      if (out !== undefined) writeFileSync(out, text, { flag: 'wx' });
      return text;
    } finally {
      db.close();
    }
  }

  /**
   * A new masking key (docs/policies.md, "Rotating the masking key"). The catalog generation is
   * bumped so that every server on this home re-reads the key before its next query; copies and
   * kept results computed with the old key are never read again.
   */
  rotateMaskingKey(): { fingerprint: string } {
    const fingerprint = this.home.rotateMaskingKey();
    this.withControlDb((db) => bumpGeneration(db));
    return { fingerprint };
  }

  private withControlDb<T>(work: (db: ReturnType<typeof openControlDatabase>) => T): T {
    const db = openControlDatabase(this.home.catalogDatabasePath);
    try {
      return work(db);
    } finally {
      db.close();
    }
  }
}
