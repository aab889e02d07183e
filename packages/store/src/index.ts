export { openDatabase, migrate, classifyDbError, MIGRATIONS_DIR, type Database, type DatabaseOptions, type Db, type MigrationResult } from './db.ts';
export { Store, targetSpecOf, type TargetRow, type JourneyRow, type JourneyVersionRow, type ScheduleRow, type RunRow, type RunEventRow, type ProbeRow, type ProbeTokenRow, type RunFilter, type IngestResult, type NewSchedule, type DueRun, type RunLabels, type FinalHook } from './store.ts';
export * as schema from './schema.ts';
export { EvidenceStore, type EvidenceKeyRow, type EvidenceEntryRow, type CheckpointRow, type ArtifactRow, type RunKeyRow, type QueuedEntry, type EntryFilter } from './evidence.ts';
export { DriftStore, type BaselineRow, type DriftAlarmRow, type DriftNotificationRow, type SeriesRun, type Series } from './drift.ts';
export type { BaselineStats } from './schema.ts';
