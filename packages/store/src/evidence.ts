/**
 * Storage for evidence: probe and log keys, the per-tenant log (append-only; see migrations/0002), checkpoints,
 * run keys and encrypted artifacts. Appends take a transaction-scoped advisory lock per tenant, so planes
 * sharing a database assign log indices one at a time and integration times never go backwards.
 */
import { and, asc, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { VigilError } from '@vigil/errors';
import type { Database, Db } from './db.ts';
import { classifyDbError } from './db.ts';
import { artifacts, evidenceCheckpoints, evidenceEntries, evidenceKeys, evidencePending, planeSecrets, runKeys, runs } from './schema.ts';

export type EvidenceKeyRow = typeof evidenceKeys.$inferSelect;
export type EvidenceEntryRow = typeof evidenceEntries.$inferSelect;
export type CheckpointRow = typeof evidenceCheckpoints.$inferSelect;
export type ArtifactRow = typeof artifacts.$inferSelect;
export type RunKeyRow = typeof runKeys.$inferSelect;

export interface QueuedEntry {
  kind: 'run' | 'erasure';
  runId: string;
  outcome: string | null;
  verdict: string | null;
  journeyId: string | null;
  targetId: string | null;
  region: string | null;
  scheduledAt: Date | null;
  keyId: string;
  envelope: unknown;
}

export interface EntryFilter {
  tenant: string;
  journey?: string;
  target?: string;
  region?: string;
  outcome?: string;
  verdict?: string;
  runId?: string;
  kind?: 'run' | 'erasure';
  sinceMs?: number;
  untilMs?: number;
  limit?: number;
  afterIdx?: number;
}

export class EvidenceStore {
  readonly db: Db;
  constructor(database: Database) { this.db = database.db; }

  async #q<T>(fn: () => Promise<T>): Promise<T> {
    try { return await fn(); } catch (e) { throw classifyDbError(e); }
  }

  // --- keys ------------------------------------------------------------------------------------------------

  /**
   * Enrolls a probe's public key. The same key again is a no-op; a new key for the probe closes the validity
   * of its previous ones (rotation). A key already enrolled for another probe is refused.
   */
  enrollProbeKey(tenant: string, probeId: string, keyId: string, publicKey: string, now: Date): Promise<EvidenceKeyRow> {
    return this.#q(() => this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`vigil-key:${tenant}:${probeId}`}))`);
      const [same] = await tx.select().from(evidenceKeys).where(eq(evidenceKeys.keyId, keyId)).limit(1);
      if (same) {
        if (same.kind !== 'probe' || same.probeId !== probeId || same.tenant !== tenant) throw new VigilError('VIGIL_E_CONFLICT', `key ${keyId} is enrolled for another probe`, { field: 'public_key', fix: 'give each probe its own key (delete the probe\'s key file to have a new one made)' });
        if (same.revokedAt) throw new VigilError('VIGIL_E_AUTH_PROBE_TOKEN', `probe key ${keyId} was revoked`, { field: 'public_key', fix: 'make the probe a new key (delete its key file) and restart it' });
        if (same.validUntil && same.validUntil <= now) throw new VigilError('VIGIL_E_AUTH_PROBE_TOKEN', `probe key ${keyId} was replaced by a newer key`, { field: 'public_key', fix: 'start the probe with its newest key' });
        return same;
      }
      await tx.update(evidenceKeys).set({ validUntil: now }).where(and(eq(evidenceKeys.tenant, tenant), eq(evidenceKeys.probeId, probeId), isNull(evidenceKeys.validUntil)));
      const [row] = await tx.insert(evidenceKeys).values({ keyId, tenant, kind: 'probe', probeId, publicKey, validFrom: now }).returning();
      return row!;
    }));
  }

  ensureLogKey(tenant: string, keyId: string, publicKey: string, now: Date): Promise<void> {
    return this.#q(async () => {
      await this.db.insert(evidenceKeys).values({ keyId, tenant, kind: 'log', publicKey, validFrom: now }).onConflictDoNothing();
    });
  }

  /** Revokes a key from `at` on (the moment it is believed compromised); records logged since then no longer verify. */
  revokeKey(keyId: string, at: Date, reason: string): Promise<EvidenceKeyRow | undefined> {
    return this.#q(async () => (await this.db.update(evidenceKeys).set({ revokedAt: at, revokeReason: reason }).where(and(eq(evidenceKeys.keyId, keyId), isNull(evidenceKeys.revokedAt))).returning())[0]);
  }

  listKeys(tenant: string): Promise<EvidenceKeyRow[]> {
    return this.#q(() => this.db.select().from(evidenceKeys).where(eq(evidenceKeys.tenant, tenant)).orderBy(asc(evidenceKeys.validFrom), asc(evidenceKeys.keyId)));
  }

  /** `db`: the caller's transaction when inside one (PGlite has a single connection). */
  getKey(keyId: string, db: Db = this.db): Promise<EvidenceKeyRow | undefined> {
    return this.#q(async () => (await db.select().from(evidenceKeys).where(eq(evidenceKeys.keyId, keyId)).limit(1))[0]);
  }

  /** A plane secret, made (once, whichever plane is first) only when absent. */
  secret(name: string, make: () => Buffer): Promise<Buffer> {
    return this.#q(async () => {
      const read = async () => (await this.db.select().from(planeSecrets).where(eq(planeSecrets.name, name)))[0]?.value;
      const have = await read();
      if (have) return have;
      await this.db.insert(planeSecrets).values({ name, value: make() }).onConflictDoNothing();
      return (await read())!;
    });
  }

  // --- the log ---------------------------------------------------------------------------------------------

  /** Queues records inside the caller's transaction (the one that stores the run's verdict). */
  async queueEntries(tx: Db, tenant: string, items: QueuedEntry[]): Promise<void> {
    if (items.length > 0) await tx.insert(evidencePending).values(items.map((e) => ({ tenant, ...e })));
  }

  /**
   * The sequencer: under the tenant's log lock, moves up to `limit` queued records, in queue order, into the
   * log with the next indices and one integration time (never earlier than the last), in one transaction.
   * Returns how many it integrated.
   */
  integrate(tenant: string, leafHash: (envelope: unknown, integratedMs: number) => Buffer, limit = 2000): Promise<number> {
    return this.#q(() => this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`vigil-evidence:${tenant}`}))`);
      const queued = await tx.select().from(evidencePending).where(eq(evidencePending.tenant, tenant)).orderBy(asc(evidencePending.seq)).limit(limit);
      if (queued.length === 0) return 0;
      const [last] = await tx.select({ idx: evidenceEntries.idx, integratedMs: evidenceEntries.integratedMs }).from(evidenceEntries)
        .where(eq(evidenceEntries.tenant, tenant)).orderBy(desc(evidenceEntries.idx)).limit(1);
      let idx = last ? last.idx + 1 : 0;
      const integratedMs = Math.max(Date.now(), last?.integratedMs ?? 0);
      const rows = queued.map((e) => ({
        tenant, idx: idx++, integratedMs, kind: e.kind, runId: e.runId, outcome: e.outcome, verdict: e.verdict, journeyId: e.journeyId, targetId: e.targetId,
        region: e.region, scheduledAt: e.scheduledAt, keyId: e.keyId, envelope: e.envelope, leafHash: leafHash(e.envelope, integratedMs),
      }));
      for (let i = 0; i < rows.length; i += 500) await tx.insert(evidenceEntries).values(rows.slice(i, i + 500));
      await tx.delete(evidencePending).where(inArray(evidencePending.seq, queued.map((q) => q.seq)));
      return rows.length;
    }));
  }

  queuedCount(tenant: string): Promise<number> {
    return this.#q(async () => (await this.db.select({ n: sql<number>`count(*)::int` }).from(evidencePending).where(eq(evidencePending.tenant, tenant)))[0]?.n ?? 0);
  }

  /** Leaf hashes from index `from` on, in order (the plane's tree cache catches up with them). */
  leafHashes(tenant: string, from: number, limit = 50_000): Promise<Buffer[]> {
    return this.#q(async () => (await this.db.select({ h: evidenceEntries.leafHash }).from(evidenceEntries)
      .where(and(eq(evidenceEntries.tenant, tenant), gte(evidenceEntries.idx, from))).orderBy(asc(evidenceEntries.idx)).limit(limit)).map((r) => r.h));
  }

  /** Entries with first <= idx < end, in pages. */
  async *entries(tenant: string, first: number, end: number, page = 2000): AsyncGenerator<EvidenceEntryRow> {
    for (let at = first; at < end; at += page) {
      const rows = await this.#q(() => this.db.select().from(evidenceEntries)
        .where(and(eq(evidenceEntries.tenant, tenant), gte(evidenceEntries.idx, at), lt(evidenceEntries.idx, Math.min(end, at + page)))).orderBy(asc(evidenceEntries.idx)));
      yield* rows;
    }
  }

  queryEntries(f: EntryFilter): Promise<EvidenceEntryRow[]> {
    return this.#q(() => {
      const where: SQL[] = [eq(evidenceEntries.tenant, f.tenant)];
      if (f.journey) where.push(eq(evidenceEntries.journeyId, f.journey));
      if (f.target) where.push(eq(evidenceEntries.targetId, f.target));
      if (f.region) where.push(eq(evidenceEntries.region, f.region));
      if (f.outcome) where.push(eq(evidenceEntries.outcome, f.outcome));
      if (f.verdict) where.push(eq(evidenceEntries.verdict, f.verdict));
      if (f.runId) where.push(eq(evidenceEntries.runId, f.runId));
      if (f.kind) where.push(eq(evidenceEntries.kind, f.kind));
      if (f.sinceMs !== undefined) where.push(gte(evidenceEntries.integratedMs, f.sinceMs));
      if (f.untilMs !== undefined) where.push(lt(evidenceEntries.integratedMs, f.untilMs));
      if (f.afterIdx !== undefined) where.push(sql`${evidenceEntries.idx} > ${f.afterIdx}`);
      return this.db.select().from(evidenceEntries).where(and(...where)).orderBy(asc(evidenceEntries.idx)).limit(Math.min(f.limit ?? 100, 1000));
    });
  }

  /** The index range of entries integrated in [sinceMs, untilMs). */
  rangeFor(tenant: string, sinceMs: number | null, untilMs: number | null): Promise<{ first: number; end: number }> {
    return this.#q(async () => {
      const size = await this.size(tenant);
      const bound = async (ms: number | null, dflt: number) => {
        if (ms === null) return dflt;
        const [r] = await this.db.select({ idx: evidenceEntries.idx }).from(evidenceEntries)
          .where(and(eq(evidenceEntries.tenant, tenant), gte(evidenceEntries.integratedMs, ms))).orderBy(asc(evidenceEntries.idx)).limit(1);
        return r ? r.idx : size;
      };
      const first = await bound(sinceMs, 0);
      return { first, end: Math.max(first, await bound(untilMs, size)) };
    });
  }

  size(tenant: string): Promise<number> {
    return this.#q(async () => {
      const [r] = await this.db.select({ idx: evidenceEntries.idx }).from(evidenceEntries).where(eq(evidenceEntries.tenant, tenant)).orderBy(desc(evidenceEntries.idx)).limit(1);
      return r ? r.idx + 1 : 0;
    });
  }

  /** Erasure entries at or after `from` for the given runs. */
  erasuresFor(tenant: string, runIds: string[], from: number): Promise<EvidenceEntryRow[]> {
    if (runIds.length === 0) return Promise.resolve([]);
    return this.#q(async () => {
      const out: EvidenceEntryRow[] = [];
      for (let i = 0; i < runIds.length; i += 5000) {
        out.push(...await this.db.select().from(evidenceEntries).where(and(eq(evidenceEntries.tenant, tenant), eq(evidenceEntries.kind, 'erasure'), gte(evidenceEntries.idx, from), inArray(evidenceEntries.runId, runIds.slice(i, i + 5000)))));
      }
      return out.sort((a, b) => a.idx - b.idx);
    });
  }

  putCheckpoint(tenant: string, size: number, rootHash: Buffer, note: string): Promise<void> {
    return this.#q(async () => { await this.db.insert(evidenceCheckpoints).values({ tenant, size, rootHash, note }).onConflictDoNothing(); });
  }

  checkpointAt(tenant: string, size: number): Promise<CheckpointRow | undefined> {
    return this.#q(async () => (await this.db.select().from(evidenceCheckpoints).where(and(eq(evidenceCheckpoints.tenant, tenant), eq(evidenceCheckpoints.size, size))).limit(1))[0]);
  }

  latestCheckpoint(tenant: string): Promise<CheckpointRow | undefined> {
    return this.#q(async () => (await this.db.select().from(evidenceCheckpoints).where(eq(evidenceCheckpoints.tenant, tenant)).orderBy(desc(evidenceCheckpoints.size)).limit(1))[0]);
  }

  // --- runs the log must account for -----------------------------------------------------------------------

  /** Runs not finished whose start time is older than `before`: missed (never started) or interrupted. */
  overdueRuns(before: Date, limit = 200): Promise<Array<typeof runs.$inferSelect>> {
    return this.#q(() => this.db.select().from(runs).where(and(isNull(runs.verdict), lt(runs.notBefore, before))).orderBy(asc(runs.notBefore)).limit(limit));
  }

  runsByIds(ids: string[]): Promise<Array<Pick<typeof runs.$inferSelect, 'id' | 'scheduledAt' | 'verdict'>>> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.#q(async () => {
      const out = [];
      for (let i = 0; i < ids.length; i += 5000) out.push(...await this.db.select({ id: runs.id, scheduledAt: runs.scheduledAt, verdict: runs.verdict }).from(runs).where(inArray(runs.id, ids.slice(i, i + 5000))));
      return out;
    });
  }

  /** Runs scheduled in the window that have no verdict yet (pending at export time). */
  pendingRuns(sinceMs: number | null, untilMs: number | null): Promise<Array<{ id: string; scheduledAt: Date }>> {
    return this.#q(() => {
      const where: SQL[] = [isNull(runs.verdict)];
      if (sinceMs !== null) where.push(gte(runs.scheduledAt, new Date(sinceMs)));
      if (untilMs !== null) where.push(lt(runs.scheduledAt, new Date(untilMs)));
      return this.db.select({ id: runs.id, scheduledAt: runs.scheduledAt }).from(runs).where(and(...where));
    });
  }

  // --- run keys and artifacts ------------------------------------------------------------------------------

  /** The run's key row, made with `make()` only when absent (a racing maker's row wins). */
  runKey(runId: string, make: () => { wrappedKey: Buffer; salt: Buffer }): Promise<RunKeyRow> {
    return this.#q(async () => {
      const read = async () => (await this.db.select().from(runKeys).where(eq(runKeys.runId, runId)))[0];
      const have = await read();
      if (have) return have;
      const m = make();
      await this.db.insert(runKeys).values({ runId, wrappedKey: m.wrappedKey, salt: m.salt }).onConflictDoNothing();
      return (await read())!;
    });
  }

  getRunKey(runId: string): Promise<RunKeyRow | undefined> {
    return this.#q(async () => (await this.db.select().from(runKeys).where(eq(runKeys.runId, runId)))[0]);
  }

  putArtifact(a: typeof artifacts.$inferInsert): Promise<void> {
    return this.#q(async () => {
      await this.db.insert(artifacts).values(a).onConflictDoUpdate({
        target: [artifacts.runId, artifacts.attempt, artifacts.name],
        set: { sha256: a.sha256, bytes: a.bytes, mediaType: a.mediaType, retention: a.retention, redactions: a.redactions, sealed: a.sealed },
      });
    });
  }

  artifactsOf(runId: string, attempt?: number, db: Db = this.db): Promise<ArtifactRow[]> {
    return this.#q(() => db.select().from(artifacts)
      .where(attempt === undefined ? eq(artifacts.runId, runId) : and(eq(artifacts.runId, runId), eq(artifacts.attempt, attempt))).orderBy(asc(artifacts.attempt), asc(artifacts.name)));
  }

  /**
   * Erasure: destroys the run's key and salt and the sealed bytes, and queues the log entry `entry` in the
   * same transaction. Returns undefined when the run has nothing left to erase.
   */
  erase(tenant: string, runId: string, reason: string, now: Date, entry: (names: Array<{ name: string; sha256: string }>) => QueuedEntry): Promise<{ artifacts: Array<{ name: string; sha256: string }> } | undefined> {
    return this.#q(() => this.db.transaction(async (tx) => {
      const [k] = await tx.select().from(runKeys).where(eq(runKeys.runId, runId)).for('update');
      if (!k || k.erasedAt) return undefined;
      const [run] = await tx.select({ attempt: runs.attempt }).from(runs).where(eq(runs.id, runId));
      const arts = await tx.select({ name: artifacts.name, sha256: artifacts.sha256 }).from(artifacts)
        .where(and(eq(artifacts.runId, runId), run?.attempt ? eq(artifacts.attempt, run.attempt) : sql`true`)).orderBy(asc(artifacts.name));
      await tx.update(runKeys).set({ wrappedKey: null, salt: null, erasedAt: now, eraseReason: reason }).where(eq(runKeys.runId, runId));
      await tx.update(artifacts).set({ sealed: null }).where(eq(artifacts.runId, runId));
      await this.queueEntries(tx as unknown as Db, tenant, [entry(arts)]);
      return { artifacts: arts };
    }));
  }
}
