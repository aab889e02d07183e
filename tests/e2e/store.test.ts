/**
 * Storage: the drizzle schema and the SQL migrations describe the same tables; migrations apply once even when
 * several planes start together; the same migrations run on PGlite.
 */
import { readdirSync } from 'node:fs';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrate, openDatabase, schema, type Database } from '@vigil/store';
import { createTestDatabase } from '../support/services.ts';

const MIGRATIONS = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();

describe('store', () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => { await db?.drop(); });

  it('applies migrations once when three planes migrate at the same moment', async () => {
    const dbs: Database[] = await Promise.all([1, 2, 3].map(() => openDatabase({ url: db.url, poolSize: 2 })));
    try {
      const results = await Promise.all(dbs.map((d) => migrate(d)));
      expect(MIGRATIONS.length).toBeGreaterThanOrEqual(4);
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
      expect(results.every((r) => r.applied.length + r.alreadyApplied.length === MIGRATIONS.length)).toBe(true);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('has exactly the columns the drizzle schema declares, with the same nullability', async () => {
    const d = await openDatabase({ url: db.url });
    try {
      const rows = await d.withConnection((q) => q(`SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`));
      for (const table of Object.values(schema.tables) as PgTable[]) {
        const cfg = getTableConfig(table);
        const inDb = rows.filter((r) => r.table_name === cfg.name).map((r) => `${r.column_name}:${r.is_nullable === 'NO' ? 'not null' : 'null'}`).sort();
        const declared = cfg.columns.map((c) => `${c.name}:${c.notNull ? 'not null' : 'null'}`).sort();
        expect(inDb, cfg.name).toEqual(declared);
      }
    } finally {
      await d.close();
    }
  });

  it('runs the same migrations on PGlite', async () => {
    const lite = await openDatabase({});
    try {
      expect((await migrate(lite)).applied).toEqual(MIGRATIONS);
      expect((await migrate(lite)).applied).toEqual([]);
      const t = await lite.withConnection((q) => q(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`));
      expect(t[0]!.n).toBe(Object.keys(schema.tables).length + 1);
    } finally {
      await lite.close();
    }
  });
});
