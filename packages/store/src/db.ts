/**
 * Opens the database: node-postgres when a connection string is given, otherwise PGlite (Postgres compiled to
 * WebAssembly, in-process) in a directory or in memory. Both run the same migrations and the same drizzle schema.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { VigilError } from '@vigil/errors';
import { tables } from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof tables>;

export interface DatabaseOptions {
  /** postgres://… ; when absent, PGlite is used. */
  url?: string;
  /** PGlite data directory; when absent (and no url), an in-memory database. */
  pgliteDir?: string;
  /** node-postgres pool size. @default 10 */
  poolSize?: number;
}

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Runs raw SQL (several statements allowed, no parameters). */
  exec(sql: string): Promise<void>;
  /** Runs fn with a single connection held (for session-level advisory locks). */
  withConnection<T>(fn: (exec: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const MIGRATION_LOCK_KEY = 7_431_001; // arbitrary, constant: pg_advisory_lock key for migrations

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => { /* an idle client died; the pool replaces it and the next query reports */ });
    const db = drizzlePg(pool, { schema: tables }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      async exec(sql) { await pool.query(sql); },
      async withConnection(fn) {
        const client = await pool.connect();
        try {
          return await fn(async (sql, params) => (await client.query(sql, params as unknown[])).rows);
        } finally {
          client.release();
        }
      },
      async ping() { await pool.query('SELECT 1'); },
      async close() { await pool.end(); },
    };
  }
  const lite = new PGlite(opts.pgliteDir);
  await lite.waitReady;
  const db = drizzlePglite(lite, { schema: tables }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    async exec(sql) { await lite.exec(sql); },
    async withConnection(fn) {
      return fn(async (sql, params) => {
        if (params && params.length > 0) return (await lite.query<Record<string, unknown>>(sql, params)).rows;
        const results = await lite.exec(sql); // simple protocol: several statements allowed
        return (results.at(-1)?.rows ?? []) as Array<Record<string, unknown>>;
      });
    },
    async ping() { await lite.query('SELECT 1'); },
    async close() { await lite.close(); },
  };
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * The one migrate entry point. Takes a session advisory lock so that planes starting together apply each
 * migration once; refuses to run when an applied migration's file has changed since (a fatal config error).
 */
export async function migrate(database: Database, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  return database.withConnection(async (q) => {
    await q(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      await q('CREATE TABLE IF NOT EXISTS vigil_migrations (id text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const done = new Map((await q('SELECT id, sha256 FROM vigil_migrations')).map((r) => [r.id as string, r.sha256 as string]));
      const result: MigrationResult = { applied: [], alreadyApplied: [] };
      for (const f of files) {
        const sql = readFileSync(`${dir}/${f}`, 'utf8');
        const sha = createHash('sha256').update(sql).digest('hex');
        const prior = done.get(f);
        if (prior !== undefined) {
          if (prior !== sha) throw new VigilError('VIGIL_E_CONFIG_INVALID', `migration ${f} was changed after it was applied`, { fix: 'restore the released migration file and put the change in a new migration' });
          result.alreadyApplied.push(f);
          continue;
        }
        await q('BEGIN');
        try {
          await q(sql);
          await q('INSERT INTO vigil_migrations (id, sha256) VALUES ($1, $2)', [f, sha]);
          await q('COMMIT');
        } catch (e) {
          await q('ROLLBACK');
          throw e;
        }
        result.applied.push(f);
      }
      return result;
    } finally {
      await q(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  });
}

/** Maps driver errors to Vigil codes: unreachable → retryable; constraint violations → client errors. */
export function classifyDbError(e: unknown): VigilError {
  if (e instanceof VigilError) return e;
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code;
  const message = err.cause?.message ?? err.message ?? String(e);
  if (code === '23505') return new VigilError('VIGIL_E_CONFLICT', `already exists: ${message}`, { fix: 'choose another name, or update the existing resource', cause: e });
  if (code === '23503') return new VigilError('VIGIL_E_NOT_FOUND', `a referenced resource does not exist: ${message}`, { fix: 'create the referenced resource first', cause: e });
  if (code === 'ECONNREFUSED' || code === '57P01' || code === '57P03' || code === 'ETIMEDOUT' || /connect|terminat/i.test(message)) {
    return new VigilError('VIGIL_E_DB_UNAVAILABLE', `database unavailable: ${message}`, { fix: 'check DATABASE_URL and that Postgres is up', cause: e });
  }
  return new VigilError('VIGIL_E_INTERNAL', `database error: ${message}`, { cause: e });
}
