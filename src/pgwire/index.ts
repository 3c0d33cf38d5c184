export { startPgServer, type PgServer, type PgServerOptions } from './pg-server.ts';
