-- Evidence (signed run records in a per-tenant Merkle log). Log entries and checkpoints are append-only for
-- every role the application connects as: triggers refuse UPDATE, DELETE and TRUNCATE. Keys may only gain an
-- end of validity or a revocation. Only run_keys and artifacts change: erasure destroys a run's key.

CREATE FUNCTION vigil_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'P0001';
END;
$$;

-- Runs with no verdict yet, by start time: the plane's deadline check (missed / interrupted) reads this.
CREATE INDEX runs_open ON runs (not_before) WHERE verdict IS NULL;

-- Probe keys (kind probe) and the log's own key (kind log), per tenant.
CREATE TABLE evidence_keys (
  key_id        text PRIMARY KEY,
  tenant        text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('probe', 'log')),
  probe_id      text,
  public_key    text NOT NULL,
  valid_from    timestamptz NOT NULL,
  valid_until   timestamptz,
  revoked_at    timestamptz,
  revoke_reason text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'probe') = (probe_id IS NOT NULL))
);
CREATE INDEX evidence_keys_by_probe ON evidence_keys (tenant, probe_id);

CREATE FUNCTION vigil_key_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'evidence keys are never deleted' USING ERRCODE = 'P0001';
  END IF;
  IF NEW.key_id <> OLD.key_id OR NEW.tenant <> OLD.tenant OR NEW.kind <> OLD.kind OR NEW.probe_id IS DISTINCT FROM OLD.probe_id
     OR NEW.public_key <> OLD.public_key OR NEW.valid_from <> OLD.valid_from
     OR (OLD.valid_until IS NOT NULL AND NEW.valid_until IS DISTINCT FROM OLD.valid_until)
     OR (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at) THEN
    RAISE EXCEPTION 'an evidence key may only gain an end of validity or a revocation' USING ERRCODE = 'P0001';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER evidence_keys_guard BEFORE UPDATE OR DELETE ON evidence_keys FOR EACH ROW EXECUTE FUNCTION vigil_key_guard();

-- One row per log leaf. The leaf is RFC 8785 JSON of {envelope, integratedTimeMs}; leaf_hash is its RFC 9162 hash.
CREATE TABLE evidence_entries (
  tenant         text NOT NULL,
  idx            bigint NOT NULL,
  integrated_ms  bigint NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('run', 'erasure')),
  run_id         text NOT NULL,
  outcome        text,
  verdict        text,
  journey_id     text,
  target_id      text,
  region         text,
  scheduled_at   timestamptz,
  key_id         text NOT NULL REFERENCES evidence_keys(key_id),
  envelope       jsonb NOT NULL,
  leaf_hash      bytea NOT NULL,
  PRIMARY KEY (tenant, idx)
);
-- Exactly one terminal record per run.
CREATE UNIQUE INDEX evidence_entries_one_per_run ON evidence_entries (tenant, run_id) WHERE kind = 'run';
CREATE INDEX evidence_entries_by_time ON evidence_entries (tenant, integrated_ms);
CREATE INDEX evidence_entries_by_run ON evidence_entries (run_id);
CREATE TRIGGER evidence_entries_append_only BEFORE UPDATE OR DELETE ON evidence_entries FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();
CREATE TRIGGER evidence_entries_no_truncate BEFORE TRUNCATE ON evidence_entries FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse_truncate();

-- Records accepted with their runs' verdicts, waiting to be integrated into the log. The plane's sequencer
-- moves them, in batches and in order, into evidence_entries (one transaction: insert there, delete here),
-- so appends do not serialize every run's transaction on the log's lock.
CREATE TABLE evidence_pending (
  seq          bigserial PRIMARY KEY,
  tenant       text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('run', 'erasure')),
  run_id       text NOT NULL,
  outcome      text,
  verdict      text,
  journey_id   text,
  target_id    text,
  region       text,
  scheduled_at timestamptz,
  key_id       text NOT NULL REFERENCES evidence_keys(key_id),
  envelope     jsonb NOT NULL,
  queued_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX evidence_pending_one_per_run ON evidence_pending (tenant, run_id) WHERE kind = 'run';

CREATE TABLE evidence_checkpoints (
  tenant     text NOT NULL,
  size       bigint NOT NULL,
  root_hash  bytea NOT NULL,
  note       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, size)
);
CREATE TRIGGER evidence_checkpoints_append_only BEFORE UPDATE OR DELETE ON evidence_checkpoints FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();
CREATE TRIGGER evidence_checkpoints_no_truncate BEFORE TRUNCATE ON evidence_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse_truncate();

-- A run's data key (AES-256-GCM, wrapped with the plane's key-encryption key) and the salt of its hashed
-- identifiers. Erasure sets both to NULL: the artifacts can no longer be read, the hashes no longer linked.
CREATE TABLE run_keys (
  run_id       text PRIMARY KEY REFERENCES runs(id),
  wrapped_key  bytea,
  salt         bytea,
  created_at   timestamptz NOT NULL DEFAULT now(),
  erased_at    timestamptz,
  erase_reason text,
  CHECK ((erased_at IS NULL) = (wrapped_key IS NOT NULL))
);

-- Artifact bytes, encrypted with the run's key (nonce || ciphertext || tag). Per delivery attempt.
CREATE TABLE artifacts (
  run_id     text NOT NULL REFERENCES runs(id),
  attempt    integer NOT NULL,
  name       text NOT NULL,
  sha256     text NOT NULL,
  bytes      bigint NOT NULL,
  media_type text NOT NULL,
  retention  text NOT NULL,
  redactions text[] NOT NULL,
  sealed     bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, attempt, name)
);

-- Plane key material generated when none is configured (the log signing key, the key-encryption key).
CREATE TABLE plane_secrets (
  name       text PRIMARY KEY,
  value      bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
