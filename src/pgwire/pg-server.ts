import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, isIP, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ConnectionState, PostgresConnection, PostgresConnectionOptions, TlsOptions } from 'pg-gateway';
import { fromNodeSocket } from 'pg-gateway/node';
import { InvalidRequestError, InvalidTokenError, isVeilError } from '../errors/index.ts';
import type { VeilGateway } from '../gateway/index.ts';
import type { Authentication } from '../identity/index.ts';
import { CatalogPool } from './catalog-pool.ts';
import { CatalogSandbox } from './catalog-sandbox.ts';
import * as wire from './pg-messages.ts';
import { PgSession } from './pg-session.ts';
import { ScramVerifiers } from './scram-verifiers.ts';

export interface PgServerOptions {
  readonly port: number;
  readonly host: string;
  /** Where unexpected errors go (never to clients). */
  readonly logError?: (error: unknown) => void;
}

export interface PgServer {
  readonly address: { readonly host: string; readonly port: number };
  /** Sessions open now. */
  readonly sessionCount: number;
  close(): Promise<void>;
}

const CANCEL_REQUEST_CODE = 80877102;
const GSSENC_REQUEST_CODE = 80877104;

/**
 * The PostgreSQL door: psql, pgJDBC, psycopg2, BI tools. pg-gateway frames the protocol, answers
 * SSLRequest and runs the authentication exchange; Veil decides who may connect how, and every
 * statement after that is handled by a PgSession over the gateway.
 *
 * Authentication: the password is a Veil credential (a Veil token, an OIDC JWT, an API token),
 * checked exactly as an HTTP bearer token, and the startup user name must be its principal. It is
 * sent in clear text only over TLS or from loopback; plain connections from other addresses (only
 * when configured) authenticate with SCRAM-SHA-256 against API tokens, so no secret crosses the wire.
 */
export async function startPgServer(gateway: VeilGateway, options: PgServerOptions): Promise<PgServer> {
  const settings = gateway.settings.pg;
  const tls = loadTls(settings.tlsCert, settings.tlsKey);
  const catalogs = new CatalogPool();
  const sessions = new Map<number, { session: PgSession; secretKey: number }>();
  const perAddress = new Map<string, number>();
  const scram = new ScramVerifiers(gateway);
  const logError = options.logError ?? ((error: unknown) => console.error('[veil] pg:', error));
  let nextProcessId = randomInt(1000, 1 << 30);

  const sockets = new Set<Socket>();

  const accept = async (socket: Socket): Promise<void> => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const address = socket.remoteAddress ?? 'unknown';
    const loopback = isLoopback(address);
    const fromHere = (perAddress.get(address) ?? 0) + 1;
    if (sessions.size >= settings.maxConnections || fromHere > gateway.settings.maxConnectionsPerClient) {
      socket.end(wire.errorResponse({ severity: 'FATAL', code: '53300', message: 'sorry, too many clients already' }));
      return;
    }
    perAddress.set(address, fromHere);
    const processId = nextProcessId++;
    const secretKey = randomInt(1, 2 ** 31 - 1);
    let session: PgSession | undefined;
    let authentication: Authentication | undefined;
    let reauthenticate: (() => Promise<Authentication>) | undefined;
    let resolveConnection: (c: PostgresConnection) => void = () => undefined;
    const connectionReady = new Promise<PostgresConnection>((resolve) => {
      resolveConnection = resolve;
    });

    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    if (settings.idleTimeoutMs > 0) {
      socket.setTimeout(settings.idleTimeoutMs, () => {
        // A statement running without output (a long aggregate) is not idleness: wait for it.
        if (session?.busy === true) return;
        // Idle: nothing is being written, so the message cannot interleave with a response.
        if (socket.writable) socket.write(wire.errorResponse({ severity: 'FATAL', code: '57P05', message: 'terminating connection due to idle-session timeout' }));
        socket.destroy();
      });
    }
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
      sessions.delete(processId);
      session?.close();
    });
    socket.on('error', () => undefined);

    /** Recorded like a refused HTTP request: who tried, from where; never the credential. */
    const failAuthentication = (error: unknown, user: string | undefined): Promise<false> => {
      const scope = gateway.open({ door: 'pg', clientApplication: null, clientAddress: address });
      scope.describe('auth', `connect as ${user ?? '?'}`);
      return gateway.finish(scope, isVeilError(error) ? error : new InvalidTokenError('invalid credentials')).then(
        () => false as const,
        (failure: unknown) => {
          logError(failure);
          return false as const;
        },
      );
    };

    const passwordAuth = {
      method: 'password' as const,
      getClearTextPassword: () => '',
      validateCredentials: async ({ username, password }: { username: string; password: string }) => {
        try {
          const check = async (): Promise<Authentication> => {
            const checked = await gateway.verifyCredential(password);
            if (checked.principal.user !== username) throw new InvalidTokenError(`the token is not for user ${username}`);
            return checked;
          };
          authentication = await check();
          reauthenticate = check;
          return true;
        } catch (error) {
          return failAuthentication(error, username);
        }
      },
    };
    const scramAuth = scram.authOptions(
      (username, verified) => {
        authentication = verified;
        const tokenId = verified.via ?? '';
        reauthenticate = () => gateway.acceptScramProof(username, tokenId);
        return username === verified.principal.user;
      },
      (user, error) => {
        // Recorded first; PostgreSQL answers a failed SCRAM proof with 28P01 (pg-gateway would say 28000).
        void failAuthentication(error, user).then(async () => {
          const connection = await connectionReady;
          await connection.streamWriter?.write(wire.errorResponse({ severity: 'FATAL', code: '28P01', message: `password authentication failed for user "${user}"` })).catch(() => undefined);
          socket.destroy();
        });
        return false;
      },
    );

    const connectionOptions: PostgresConnectionOptions = {
      auth: passwordAuth,
      ...(tls === undefined ? {} : { tls }),
      onMessage: async (data: Uint8Array, state: ConnectionState) => {
        const connection = await connectionReady;
        if (!state.hasStarted) {
          const code = startupCode(data);
          if (code === CANCEL_REQUEST_CODE) {
            const request = wire.parseCancelRequest(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
            const target = request === undefined ? undefined : sessions.get(request.processId);
            if (target !== undefined && request !== undefined && target.secretKey === request.secretKey) target.session.cancel();
            await connection.detach();
            socket.destroy();
            return undefined;
          }
          // psql asks for GSS encryption first when it has Kerberos credentials: decline.
          if (code === GSSENC_REQUEST_CODE) return new Uint8Array([0x4e]);
          // A plain startup: allowed from loopback, or anywhere when configured (then SCRAM).
          if (code !== 80877103 && state.tlsInfo === undefined) {
            if (!loopback && !settings.allowPlaintext) {
              setImmediate(() => socket.end());
              return wire.errorResponse({ severity: 'FATAL', code: '28000', message: 'connections from other hosts must use TLS (sslmode=require)' });
            }
            // pg-gateway refuses plain startups whenever TLS is configured: Veil decides instead.
            delete connection.options.tls;
          }
          return undefined;
        }
        if (session === undefined) return undefined;
        return session.handle(data);
      },
      onStartup: async (state: ConnectionState) => {
        const connection = await connectionReady;
        // Clear-text passwords only where nobody can read them; SCRAM (API tokens) elsewhere.
        connection.options.auth = settings.auth === 'auto' && (state.tlsInfo !== undefined || loopback) ? passwordAuth : scramAuth;
      },
      onAuthenticated: async (state: ConnectionState) => {
        const connection = await connectionReady;
        if (authentication === undefined || reauthenticate === undefined) throw new InvalidRequestError('authentication did not complete');
        session = new PgSession({
          gateway,
          authentication,
          reauthenticate,
          clientAddress: address,
          startup: state.clientParams ?? { user: authentication.principal.user },
          catalogs,
          processId,
          secretKey,
          logError,
          terminate: () => socket.destroy(),
        });
        sessions.set(processId, { session, secretKey });
        // ParameterStatus and BackendKeyData belong between AuthenticationOk and ReadyForQuery,
        // which pg-gateway sends next (psycopg2 refuses a connection without a cancel key).
        await connection.streamWriter?.write(session.greetingParameters());
      },
    };
    try {
      resolveConnection(await fromNodeSocket(socket, connectionOptions));
    } catch (error) {
      logError(error);
      socket.destroy();
    }
  };

  const server: Server = createServer((socket) => {
    accept(socket).catch((error: unknown) => {
      logError(error);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: options.host, port: bound.port },
    get sessionCount() {
      return sessions.size;
    },
    async close() {
      for (const { session } of sessions.values()) session.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await catalogs.closeAll();
      await CatalogSandbox.discardSpare();
    },
  };
}

/** The code of a startup-phase message (SSLRequest 80877103, CancelRequest, GSSENCRequest, protocol 196608). */
function startupCode(data: Uint8Array): number {
  if (data.byteLength < 8) return -1;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getInt32(4);
}

function isLoopback(address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

function loadTls(certFile: string, keyFile: string): TlsOptions | undefined {
  if (certFile === '' && keyFile === '') return undefined;
  if (certFile === '' || keyFile === '') throw new InvalidRequestError('pg_tls_cert and pg_tls_key must be configured together');
  const toArrayBuffer = (file: string): ArrayBuffer => {
    const bytes = readFileSync(file);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  };
  return { cert: toArrayBuffer(certFile), key: toArrayBuffer(keyFile) };
}

