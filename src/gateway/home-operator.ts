import { readFileSync, writeFileSync } from 'node:fs';
import { createCheckpoint, exportAudit, parseCheckpoint, pruneAudit, verifyAuditStore, verifyCheckpoint, type AuditExportFormat, type PruneResult } from '../audit/index.ts';
import { AuditTamperedError, InvalidRequestError } from '../errors/index.ts';
import { VeilHome } from '../home/index.ts';
import { Authenticator, LocalTokenIssuer, OidcProvider, parseOidcProviders, type ApiTokenInfo } from '../identity/index.ts';
import { openAuditReader, openControlStore, type ControlStore } from '../runtime/control-store.ts';
import { bumpGeneration, type SqlStore } from '../store/index.ts';

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
  async issueToken(user: string, ttlSeconds?: number): Promise<string> {
    return this.withStore(async (store) => {
      await store.users.get(user);
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
      return await this.withStore(async (store) => {
        const authenticator = new Authenticator(new LocalTokenIssuer(this.home.loadKeys().tokenSigning), store.users, store.apiTokens, providers, settings.adminGroups);
        const { principal, method, via } = await authenticator.authenticateCredential(token);
        return { ...principal, authenticated_by: { method, via } };
      });
    } finally {
      for (const provider of providers) provider.close();
    }
  }

  async createApiToken(user: string, label: string, expiresInDays?: number): Promise<{ token: string; info: ApiTokenInfo }> {
    return this.withStore(async (store) => {
      await store.users.get(user);
      return store.apiTokens.create({ user, label, createdBy: 'cli', ...(expiresInDays === undefined ? {} : { expiresInDays }) });
    });
  }

  listApiTokens(user?: string): Promise<ApiTokenInfo[]> {
    return this.withStore((store) => store.apiTokens.list(user));
  }

  revokeApiToken(id: string): Promise<ApiTokenInfo> {
    return this.withStore((store) => store.apiTokens.revoke(id));
  }

  /** Checks the audit hash chain (and a signed checkpoint); throws AuditTamperedError naming the first altered record. */
  async verifyAudit(checkpointFile?: string): Promise<Record<string, unknown>> {
    const { result, checkpoint } = await this.withAuditReader((audit) =>
      audit.snapshot(async (view) => ({
        result: await verifyAuditStore(view, this.home.loadKeys().auditChain, { anchorKey: this.home.loadAuditSigningKey() }),
        checkpoint: checkpointFile === undefined ? undefined : await verifyCheckpoint(view, parseCheckpoint(readFileSync(checkpointFile, 'utf8'), checkpointFile), this.home.loadAuditSigningKey()),
      })),
    );
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
  }

  async exportAudit(out: string, options: { format: AuditExportFormat; since?: string; until?: string }): Promise<number> {
    return this.withAuditReader((audit) => audit.snapshot((view) => exportAudit(view, out, options)));
  }

  async pruneAudit(before: Date, exportFile?: string): Promise<PruneResult> {
    return this.withStore(async (store) => {
      if (exportFile !== undefined) await store.audit.snapshot((view) => exportAudit(view, exportFile, { format: 'jsonl', until: before.toISOString() }));
      return pruneAudit(store.audit, this.home.loadAuditSigningKey(), before);
    });
  }

  /** The chain head signed with the home's audit key, as text; written to `out` (never overwritten) when given. */
  async checkpoint(out?: string): Promise<string> {
    const checkpoint = await this.withAuditReader((audit) => audit.snapshot((view) => createCheckpoint(view, this.home.loadAuditSigningKey())));
    const text = `${JSON.stringify(checkpoint, null, 2)}\n`;
    if (out !== undefined) writeFileSync(out, text, { flag: 'wx' });
    return text;
  }

  /**
   * A new masking key (docs/policies.md, "Rotating the masking key"). The catalog generation is
   * bumped so that every server on this home re-reads the key before its next query; copies and
   * kept results computed with the old key are never read again.
   */
  async rotateMaskingKey(): Promise<{ fingerprint: string }> {
    const fingerprint = this.home.rotateMaskingKey();
    await this.withStore((store) => bumpGeneration(store.control));
    return { fingerprint };
  }

  private async withAuditReader<T>(work: (audit: SqlStore) => Promise<T>): Promise<T> {
    const audit = openAuditReader(this.home, this.home.loadSettings());
    try {
      return await work(audit);
    } finally {
      await audit.close();
    }
  }

  private async withStore<T>(work: (store: ControlStore) => Promise<T>): Promise<T> {
    const store = await openControlStore(this.home, this.home.loadSettings());
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  }
}
