import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InvalidRequestError } from '../errors/index.ts';

/**
 * The home directory holds everything a deployment owns: the SQLite catalog, the audit store, the
 * secret keys and the default storage root. Starting on an existing home keeps all of it.
 */
export interface VeilSettings {
  /** Groups whose members may manage datasets, users and policies. */
  readonly adminGroups: readonly string[];
  readonly statementTimeoutMs: number;
  /** Rows one response may carry, whatever the caller asks for. */
  readonly maxResultRows: number;
  /** Bytes one response may carry. */
  readonly maxResultBytes: number;
  readonly maxSqlLength: number;
  readonly engineThreads: number;
  readonly engineMemoryLimit: string;
  /** Results without ORDER BY keep the files' row order, at the cost of memory that grows with a scan (docs/performance.md). */
  readonly enginePreserveInsertionOrder: boolean;
  /** Result rows DuckDB computes ahead of a streaming reader (Arrow, JSON, the PostgreSQL door), per query (docs/performance.md). */
  readonly engineStreamingBufferSize: string;
  /** Queries running at once, all users together (docs/operations.md, "Admission"). */
  readonly maxConcurrentQueries: number;
  /** Queries one user may run at once. */
  readonly maxConcurrentQueriesPerUser: number;
  /** Queries one user may have waiting for a slot; one more is answered 429. */
  readonly maxQueuedQueriesPerUser: number;
  /** Queries waiting, all users together. */
  readonly maxQueuedQueries: number;
  /** Time a client has to send a request's headers, and its whole request (headers and body). */
  readonly requestHeadersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Connections one client address may hold open at once; more are closed at once. */
  readonly maxConnectionsPerClient: number;
  /** HIPAA Safe Harbor: 3-digit zip prefixes with fewer than 20,000 people (2000 census). */
  readonly zip3RestrictedPrefixes: readonly string[];
  readonly tokenTtlSeconds: number;
  /** Trusted external identity providers, validated by the identity module (docs/identity.md). */
  readonly oidcProviders: readonly unknown[];
  /** Audit records older than this many days are pruned (0 keeps everything). */
  readonly auditRetentionDays: number;
  /** File (relative to the home) that receives OpenLineage run events; empty: none. */
  readonly openlineageFile: string;
  /** S3 connection (endpoint, region, path style, keys); empty: the SDK's standard chain. */
  readonly s3: Readonly<Record<string, unknown>>;
  /** How clients reach this server (behind a proxy: https://veil.example.com); empty: as each request says. */
  readonly publicUrl: string;
  /** The PostgreSQL door: port (0: off) and address (loopback unless configured). */
  readonly pgPort: number;
  readonly pgHost: string;
  /** PEM certificate and key (relative to the home) for TLS on the PostgreSQL door (SSLRequest); empty: no TLS. */
  readonly pgTlsCert: string;
  readonly pgTlsKey: string;
  /** Plain-text PostgreSQL connections from non-loopback addresses (then SCRAM-SHA-256 with API tokens only). */
  readonly pgAllowPlaintext: boolean;
  /**
   * How PostgreSQL clients authenticate: `auto` (the token as a password over TLS or from loopback,
   * SCRAM-SHA-256 with API tokens on other plain connections) or `scram-sha-256` (always SCRAM, API
   * tokens only: no secret ever crosses the wire).
   */
  readonly pgAuth: string;
  /** Port of the listener for Trino's OPA access control (0: off; docs/scale-out.md). */
  readonly trinoPort: number;
  readonly trinoHost: string;
  /** The Trino catalog that holds Veil's databases as schemas. */
  readonly trinoCatalog: string;
  /** Take the groups Trino sends as the user's (only where Trino's group provider is trusted). */
  readonly trinoTrustGroups: boolean;
  /** PEM files (relative to the home) for HTTPS on the Trino listener; both or neither. */
  readonly trinoTlsCert: string;
  readonly trinoTlsKey: string;
  /** PEM of the CA whose client certificates the listener requires (mutual TLS); empty: none asked. */
  readonly trinoTlsClientCa: string;
  /** PostgreSQL connections at once, all clients together. */
  readonly pgMaxConnections: number;
  /** A PostgreSQL session with no message for this long is closed (0: never). */
  readonly pgIdleTimeoutMs: number;
  /** CSV and JSON datasets are read from Parquet copies under <home>/cache/columnar (docs/cache.md). */
  readonly columnarCache: boolean;
  /** Bytes the Parquet copies may take together; least recently used copies are evicted beyond. */
  readonly cacheMaxBytes: number;
  /** Results of at most this many rows are kept for repeated queries (docs/performance.md); 0 turns reuse off. */
  readonly resultCacheMaxRows: number;
  /**
   * Where catalog, policies, identities and the audit trail live: `sqlite` (files in the home) or
   * `postgres` (shared by replicas; docs/scale-out.md). Environment: VEIL_CONTROL_STORE.
   */
  readonly controlStore: string;
  /** postgres://user:password@host:port/database; better given as VEIL_POSTGRES_URL than written here. */
  readonly postgresUrl: string;
  /** The schema Veil's tables live in; `{home}` stands for a digest of the home's path. Environment: VEIL_POSTGRES_SCHEMA. */
  readonly postgresSchema: string;
  /** Connections to PostgreSQL this process keeps at most. */
  readonly postgresMaxConnections: number;
  /**
   * Where the keys live (relative to the home); empty: `<home>/keys`. Replicas point it at one
   * shared secret directory, so that a rotated key reaches them all (docs/scale-out.md).
   * Environment: VEIL_KEYS_DIRECTORY.
   */
  readonly keysDirectory: string;
}

export const DEFAULT_SETTINGS: VeilSettings = {
  adminGroups: ['admins', 'stewards'],
  statementTimeoutMs: 60_000,
  maxResultRows: 10_000_000,
  maxResultBytes: 4 * 1024 ** 3,
  maxSqlLength: 256 * 1024,
  engineThreads: 2,
  engineMemoryLimit: '4GB',
  enginePreserveInsertionOrder: false,
  engineStreamingBufferSize: '128MB',
  maxConcurrentQueries: 8,
  maxConcurrentQueriesPerUser: 2,
  maxQueuedQueriesPerUser: 32,
  maxQueuedQueries: 256,
  requestHeadersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnectionsPerClient: 64,
  zip3RestrictedPrefixes: [
    '036', '059', '063', '102', '203', '205', '369', '556', '692', '790',
    '821', '823', '830', '831', '878', '879', '884', '890', '893',
  ],
  tokenTtlSeconds: 3600,
  oidcProviders: [],
  auditRetentionDays: 0,
  openlineageFile: '',
  s3: {},
  publicUrl: '',
  pgPort: 7432,
  pgHost: '127.0.0.1',
  pgTlsCert: '',
  pgTlsKey: '',
  pgAllowPlaintext: false,
  pgAuth: 'auto',
  trinoPort: 0,
  trinoHost: '127.0.0.1',
  trinoCatalog: 'veil',
  trinoTrustGroups: false,
  trinoTlsCert: '',
  trinoTlsKey: '',
  trinoTlsClientCa: '',
  pgMaxConnections: 128,
  pgIdleTimeoutMs: 3_600_000,
  columnarCache: true,
  cacheMaxBytes: 10 * 1024 ** 3,
  resultCacheMaxRows: 1000,
  controlStore: 'sqlite',
  postgresUrl: '',
  postgresSchema: 'veil',
  postgresMaxConnections: 10,
  keysDirectory: '',
};

/** Settings the environment may set, over config.yaml: secrets and deployment wiring (docs/scale-out.md). */
const ENVIRONMENT_SETTINGS: Record<string, 'controlStore' | 'postgresUrl' | 'postgresSchema' | 'keysDirectory'> = {
  VEIL_CONTROL_STORE: 'controlStore',
  VEIL_POSTGRES_URL: 'postgresUrl',
  VEIL_POSTGRES_SCHEMA: 'postgresSchema',
  VEIL_KEYS_DIRECTORY: 'keysDirectory',
};

const SETTINGS_KEYS: Record<string, keyof VeilSettings> = {
  admin_groups: 'adminGroups',
  statement_timeout_ms: 'statementTimeoutMs',
  max_result_rows: 'maxResultRows',
  max_result_bytes: 'maxResultBytes',
  max_sql_length: 'maxSqlLength',
  engine_threads: 'engineThreads',
  engine_memory_limit: 'engineMemoryLimit',
  engine_preserve_insertion_order: 'enginePreserveInsertionOrder',
  engine_streaming_buffer_size: 'engineStreamingBufferSize',
  max_concurrent_queries: 'maxConcurrentQueries',
  max_concurrent_queries_per_user: 'maxConcurrentQueriesPerUser',
  max_queued_queries_per_user: 'maxQueuedQueriesPerUser',
  max_queued_queries: 'maxQueuedQueries',
  request_headers_timeout_ms: 'requestHeadersTimeoutMs',
  request_timeout_ms: 'requestTimeoutMs',
  max_connections_per_client: 'maxConnectionsPerClient',
  zip3_restricted_prefixes: 'zip3RestrictedPrefixes',
  token_ttl_seconds: 'tokenTtlSeconds',
  oidc_providers: 'oidcProviders',
  audit_retention_days: 'auditRetentionDays',
  openlineage_file: 'openlineageFile',
  s3: 's3',
  public_url: 'publicUrl',
  pg_port: 'pgPort',
  pg_host: 'pgHost',
  pg_tls_cert: 'pgTlsCert',
  pg_tls_key: 'pgTlsKey',
  pg_allow_plaintext: 'pgAllowPlaintext',
  pg_auth: 'pgAuth',
  trino_port: 'trinoPort',
  trino_host: 'trinoHost',
  trino_catalog: 'trinoCatalog',
  trino_trust_groups: 'trinoTrustGroups',
  trino_tls_cert: 'trinoTlsCert',
  trino_tls_key: 'trinoTlsKey',
  trino_tls_client_ca: 'trinoTlsClientCa',
  pg_max_connections: 'pgMaxConnections',
  pg_idle_timeout_ms: 'pgIdleTimeoutMs',
  columnar_cache: 'columnarCache',
  cache_max_bytes: 'cacheMaxBytes',
  result_cache_max_rows: 'resultCacheMaxRows',
  control_store: 'controlStore',
  postgres_url: 'postgresUrl',
  postgres_schema: 'postgresSchema',
  postgres_max_connections: 'postgresMaxConnections',
  keys_directory: 'keysDirectory',
};

const MASKING_KEY_FILE = 'masking.key';

export interface VeilKeys {
  /** HS256 secret of Veil's local token issuer. */
  readonly tokenSigning: Buffer;
  /** Key of the hmac and tokenize transforms: the same key everywhere in a deployment. */
  readonly masking: Buffer;
  /** HMAC key of the audit hash chain. */
  readonly auditChain: Buffer;
}

export class VeilHome {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  static fromOptions(home: string | undefined): VeilHome {
    return new VeilHome(home ?? process.env['VEIL_HOME'] ?? './.veil');
  }

  get catalogDatabasePath(): string { return path.join(this.root, 'veil.db'); }
  get auditDatabasePath(): string { return path.join(this.root, 'audit.db'); }
  get storageRoot(): string { return path.join(this.root, 'storage'); }
  get spoolDirectory(): string { return path.join(this.root, 'spool'); }
  get engineTempDirectory(): string { return path.join(this.root, 'tmp'); }
  /** `keys_directory` when configured (replicas share one), else `<home>/keys`. */
  get keysDirectory(): string {
    const configured = this.loadSettings().keysDirectory;
    return configured === '' ? path.join(this.root, 'keys') : path.resolve(this.root, configured);
  }
  /** Local copies of remote objects (S3, under s3/) and columnar copies of sources (columnar/), read by DuckDB. */
  get cacheDirectory(): string { return path.join(this.root, 'cache'); }
  get settingsPath(): string { return path.join(this.root, 'config.yaml'); }

  /** Creates the directory layout (idempotent). */
  ensure(): void {
    for (const dir of [this.root, this.storageRoot, this.spoolDirectory, this.engineTempDirectory, this.cacheDirectory]) {
      mkdirSync(dir, { recursive: true });
    }
    mkdirSync(this.keysDirectory, { recursive: true, mode: 0o700 });
  }

  /** Keys are created once, with owner-only permissions, and never leave the home directory. */
  loadKeys(): VeilKeys {
    this.ensure();
    return {
      tokenSigning: this.loadOrCreateKey('token-signing.key'),
      masking: this.loadOrCreateKey(MASKING_KEY_FILE),
      auditChain: this.loadOrCreateKey('audit-chain.key'),
    };
  }

  /** The masking key as it is on disk now (a running server re-reads it when the catalog generation changes). */
  loadMaskingKey(): Buffer {
    return this.loadOrCreateKey(MASKING_KEY_FILE);
  }

  /**
   * Replaces the masking key with a new random one (docs/policies.md, "Rotating the masking key"):
   * written beside the old one and renamed over it, so a process reading it sees one key or the
   * other, never a partial file. The old key is not kept. Returns a fingerprint of the new key
   * (the first 12 hex digits of its SHA-256), never the key.
   */
  rotateMaskingKey(): string {
    this.ensure();
    const keyPath = path.join(this.keysDirectory, MASKING_KEY_FILE);
    const next = `${keyPath}.next-${process.pid}`;
    const key = randomBytes(32);
    writeFileSync(next, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(next, 0o600);
    renameSync(next, keyPath);
    return createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  loadSettings(): VeilSettings {
    const parsed: unknown = existsSync(this.settingsPath) ? parseYaml(readFileSync(this.settingsPath, 'utf8')) : undefined;
    return this.checkedSettings(parsed ?? {});
  }

  private checkedSettings(parsed: unknown): VeilSettings {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidRequestError(`${this.settingsPath}: expected a mapping of settings`);
    }
    const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const [key, value] of Object.entries(parsed)) {
      const target = SETTINGS_KEYS[key];
      if (target === undefined) throw new InvalidRequestError(`${this.settingsPath}: unknown setting "${key}"`);
      const expected = DEFAULT_SETTINGS[target];
      const sameShape = Array.isArray(expected) ? Array.isArray(value) : typeof value === typeof expected;
      if (!sameShape) throw new InvalidRequestError(`${this.settingsPath}: setting "${key}" has the wrong type`);
      if (typeof value === 'number' && !(Number.isFinite(value) && value >= 0)) throw new InvalidRequestError(`${this.settingsPath}: setting "${key}" must be a number of 0 or more`);
      settings[target] = value;
    }
    const publicUrl = settings['publicUrl'];
    if (typeof publicUrl === 'string' && publicUrl !== '' && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/.test(publicUrl)) {
      throw new InvalidRequestError(`${this.settingsPath}: public_url must be http(s)://host[:port], e.g. https://veil.example.com`);
    }
    if (!['auto', 'scram-sha-256'].includes(String(settings['pgAuth']))) throw new InvalidRequestError(`${this.settingsPath}: pg_auth must be auto or scram-sha-256`);
    for (const [variable, target] of Object.entries(ENVIRONMENT_SETTINGS)) {
      const value = process.env[variable]?.trim();
      if (value !== undefined && value !== '') settings[target] = value;
    }
    if (!['sqlite', 'postgres'].includes(String(settings['controlStore']))) throw new InvalidRequestError(`${this.settingsPath}: control_store must be sqlite or postgres`);
    settings['postgresSchema'] = String(settings['postgresSchema']).replaceAll('{home}', createHash('sha256').update(this.root).digest('hex').slice(0, 12));
    if (Number(settings['postgresMaxConnections']) < 1) throw new InvalidRequestError(`${this.settingsPath}: postgres_max_connections must be at least 1`);
    if (settings['controlStore'] === 'postgres' && settings['postgresUrl'] === '') {
      throw new InvalidRequestError(`${this.settingsPath}: control_store postgres needs postgres_url (or VEIL_POSTGRES_URL)`);
    }
    return settings as unknown as VeilSettings;
  }

  /** Ed25519 key that signs audit checkpoints (PEM, owner-only); created once. */
  loadAuditSigningKey(): KeyObject {
    this.ensure();
    const keyPath = path.join(this.keysDirectory, 'audit-signing.pem');
    if (!existsSync(keyPath)) createOnce(keyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    return createPrivateKey(readFileSync(keyPath, 'utf8'));
  }

  private loadOrCreateKey(fileName: string): Buffer {
    const keyPath = path.join(this.keysDirectory, fileName);
    if (existsSync(keyPath)) {
      const key = Buffer.from(readFileSync(keyPath, 'utf8').trim(), 'hex');
      if (key.length < 32) throw new InvalidRequestError(`${keyPath} holds a key shorter than 256 bits`);
      return key;
    }
    // Replicas starting together on one shared keys directory: one key wins, all read it.
    createOnce(keyPath, randomBytes(32).toString('hex') + '\n');
    return this.loadOrCreateKey(fileName);
  }
}

/**
 * Writes a new key file unless one exists, atomically: the content goes to a file of this process
 * first, then is linked into place (which fails if another process was faster; its key is kept).
 * A reader never sees a half-written key.
 */
function createOnce(keyPath: string, content: string): void {
  const draft = `${keyPath}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, content, { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(draft, 0o600);
    linkSync(draft, keyPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
}
