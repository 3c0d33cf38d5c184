import { InvalidRequestError } from '../errors/index.ts';
import { SessionError } from './pg-session-errors.ts';

/** The PostgreSQL version the door reports: clients pick their SQL dialect and catalog queries by it. */
export const SERVER_VERSION = '15.0';
export const SERVER_VERSION_NUM = '150000';

/**
 * An unknown setting: 42704 as in PostgreSQL, and never forwarded to the engine. Audited as a
 * refusal: engine settings (threads, enable_external_access, …) are exactly what it refuses.
 */
export class UnknownSettingError extends SessionError {
  constructor(name: string) {
    super('SQL_NOT_ALLOWED', '42704', `unrecognized configuration parameter "${name.slice(0, 64)}"`);
  }
}

interface SettingRule {
  readonly initial: string;
  /** Reported to the client with ParameterStatus when it changes. */
  readonly reported?: boolean;
  /** Normalizes a value, or throws when Veil cannot honour it. */
  readonly accept?: (value: string) => string;
  /** Fixed settings accept only their own value. */
  readonly fixed?: boolean;
}

const onOff = (value: string): string => {
  const v = value.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return 'on';
  if (['off', 'false', 'no', '0'].includes(v)) return 'off';
  throw new InvalidRequestError(`invalid value "${value.slice(0, 64)}": expected on or off`);
};

/**
 * The session settings a client may read and set. They live in the session only: nothing here
 * ever reaches DuckDB, so `SET threads = 1` or `SET enable_external_access = true` is an unknown
 * setting (42704), not an engine change.
 */
const RULES: Readonly<Record<string, SettingRule>> = {
  server_version: { initial: SERVER_VERSION, reported: true, fixed: true },
  server_version_num: { initial: SERVER_VERSION_NUM, fixed: true },
  server_encoding: { initial: 'UTF8', reported: true, fixed: true },
  // pgJDBC closes the connection on any client_encoding but UTF8: never echo another one back.
  client_encoding: {
    initial: 'UTF8',
    reported: true,
    accept: (v) => {
      if (!['utf8', 'utf-8', 'unicode', 'auto'].includes(v.toLowerCase())) throw new InvalidRequestError(`client_encoding ${v.slice(0, 32)} is not supported; Veil speaks UTF8`);
      return 'UTF8';
    },
  },
  datestyle: {
    initial: 'ISO, MDY',
    reported: true,
    accept: (v) => {
      if (!/^\s*iso\b/i.test(v) && !/^\s*(mdy|dmy|ymd)\s*,\s*iso\s*$/i.test(v)) throw new InvalidRequestError('DateStyle must be ISO: Veil writes dates in ISO 8601');
      return 'ISO, MDY';
    },
  },
  intervalstyle: { initial: 'postgres', reported: true, accept: (v) => (v.toLowerCase() === 'postgres' ? 'postgres' : reject('IntervalStyle', v, 'postgres')) },
  timezone: { initial: 'UTC', reported: true },
  integer_datetimes: { initial: 'on', reported: true, fixed: true },
  standard_conforming_strings: { initial: 'on', reported: true, accept: (v) => (onOff(v) === 'on' ? 'on' : reject('standard_conforming_strings', v, 'on')) },
  is_superuser: { initial: 'off', reported: true, fixed: true },
  session_authorization: { initial: '', reported: true, fixed: true },
  application_name: { initial: '', reported: true, accept: (v) => v.slice(0, 63) },
  search_path: { initial: '"$user", public', accept: (v) => v.slice(0, 1024) },
  extra_float_digits: { initial: '1', accept: (v) => (/^-?\d+$/.test(v.trim()) && Math.abs(Number(v)) <= 3 ? String(Number(v)) : reject('extra_float_digits', v, 'an integer from -15 to 3')) },
  bytea_output: { initial: 'hex', accept: (v) => (v.toLowerCase() === 'hex' ? 'hex' : reject('bytea_output', v, 'hex')) },
  statement_timeout: { initial: '0', accept: (v) => (/^\d+\s*(ms|s|min)?$/i.test(v.trim()) ? v.trim() : reject('statement_timeout', v, 'a duration')) },
  idle_in_transaction_session_timeout: { initial: '0' },
  idle_session_timeout: { initial: '0' },
  lock_timeout: { initial: '0' },
  transaction_isolation: { initial: 'read committed' },
  default_transaction_isolation: { initial: 'read committed' },
  transaction_read_only: { initial: 'on', fixed: true },
  default_transaction_read_only: { initial: 'on', accept: (v) => (onOff(v) === 'on' ? 'on' : reject('default_transaction_read_only', v, 'on: Veil serves reads only')) },
  max_identifier_length: { initial: '63', fixed: true },
  lc_messages: { initial: 'C' },
  lc_monetary: { initial: 'C' },
  lc_numeric: { initial: 'C' },
  lc_time: { initial: 'C' },
  lc_collate: { initial: 'C', fixed: true },
  lc_ctype: { initial: 'C', fixed: true },
  jit: { initial: 'off' },
  geqo: { initial: 'on' },
  row_security: { initial: 'on', fixed: true },
  client_min_messages: { initial: 'notice' },
  datetimeformat: { initial: 'ISO' },
};

function reject(name: string, value: string, expected: string): never {
  throw new InvalidRequestError(`${name} cannot be set to "${value.slice(0, 64)}" on Veil; it is ${expected}`);
}

/** One session's settings, with PostgreSQL's names (case-insensitive) and reporting rules. */
export class SessionSettings {
  private readonly values = new Map<string, string>();

  constructor(startup: Readonly<Record<string, string>>) {
    for (const [name, rule] of Object.entries(RULES)) this.values.set(name, rule.initial);
    // The session is its token's user, as PostgreSQL reports for a connection without SET ROLE.
    this.values.set('session_authorization', startup['user'] ?? '');
    for (const [key, value] of Object.entries(startup)) {
      const name = key.toLowerCase();
      if (name === 'user' || name === 'database' || name === 'options' || name === 'replication') continue;
      // Startup parameters a client sends are honoured where Veil can, and otherwise left at
      // Veil's value rather than failing the connection (pgJDBC sends its JVM's TimeZone).
      try {
        this.set(name, value);
      } catch {
        /* keep the default */
      }
    }
  }

  get(name: string): string {
    const key = name.toLowerCase();
    const value = this.values.get(key);
    if (value === undefined) throw new UnknownSettingError(name);
    return value;
  }

  /** Sets a value; returns the ParameterStatus to report, if the setting is reported and changed. */
  set(name: string, value: string | null): { name: string; value: string } | undefined {
    const key = name.toLowerCase();
    const rule = RULES[key];
    if (rule === undefined) throw new UnknownSettingError(name);
    const next = value === null || value.toUpperCase() === 'DEFAULT' ? rule.initial : rule.accept === undefined ? value : rule.accept(value);
    if (rule.fixed === true && next !== rule.initial && next !== this.values.get(key)) throw new InvalidRequestError(`parameter "${key}" cannot be changed`);
    const previous = this.values.get(key);
    this.values.set(key, next);
    return rule.reported === true && previous !== next ? { name: reportedName(key), value: next } : undefined;
  }

  resetAll(): { name: string; value: string }[] {
    const changed: { name: string; value: string }[] = [];
    for (const [name, rule] of Object.entries(RULES)) {
      const report = this.set(name, rule.initial);
      if (report !== undefined) changed.push(report);
    }
    return changed;
  }

  /** ParameterStatus messages a server sends after authentication. */
  reported(): { name: string; value: string }[] {
    return Object.entries(RULES)
      .filter(([, rule]) => rule.reported === true)
      .map(([name]) => ({ name: reportedName(name), value: this.values.get(name) ?? '' }));
  }

  all(): { name: string; setting: string }[] {
    return [...this.values.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, setting]) => ({ name, setting }));
  }
}

/** PostgreSQL reports some parameters in mixed case (clients match them exactly). */
function reportedName(name: string): string {
  return { datestyle: 'DateStyle', intervalstyle: 'IntervalStyle', timezone: 'TimeZone' }[name] ?? name;
}
