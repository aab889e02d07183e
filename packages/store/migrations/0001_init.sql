-- Vigil schema v1. Applied once, in a transaction, by @vigil/store migrate() under an advisory lock.
-- Never edit a released migration: add a new file.

CREATE FUNCTION vigil_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'rows of % are immutable', TG_TABLE_NAME USING ERRCODE = 'P0001';
END;
$$;

CREATE TABLE targets (
  id              text PRIMARY KEY,
  name            text NOT NULL UNIQUE,
  channel         text NOT NULL,
  endpoint        text NOT NULL,
  credentials_ref text,
  config          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE journeys (
  id             text PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  latest_version integer NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A version is identified by the sha256 of its source; it is never edited in place.
CREATE TABLE journey_versions (
  id         text PRIMARY KEY,
  journey_id text NOT NULL REFERENCES journeys(id),
  version    integer NOT NULL,
  source     text NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (journey_id, version)
);
CREATE TRIGGER journey_versions_immutable BEFORE UPDATE OR DELETE ON journey_versions
  FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();

CREATE TABLE schedules (
  id                 text PRIMARY KEY,
  journey_id         text NOT NULL REFERENCES journeys(id),
  -- NULL: always the journey's latest version.
  journey_version_id text REFERENCES journey_versions(id),
  target_id          text NOT NULL REFERENCES targets(id),
  regions            text[] NOT NULL,
  interval_ms        integer,
  cron               text,
  jitter_max_ms      integer NOT NULL,
  enabled            boolean NOT NULL DEFAULT true,
  next_due_at        timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((interval_ms IS NULL) <> (cron IS NULL)),
  CHECK (cardinality(regions) > 0)
);
CREATE INDEX schedules_due ON schedules (next_due_at) WHERE enabled;

-- A run row is written before its request is published (outbox): published_at IS NULL until JetStream acked it.
CREATE TABLE runs (
  id                 text PRIMARY KEY,
  schedule_id        text REFERENCES schedules(id),
  journey_id         text NOT NULL REFERENCES journeys(id),
  journey_version_id text NOT NULL REFERENCES journey_versions(id),
  target_id          text NOT NULL REFERENCES targets(id),
  region             text NOT NULL,
  status             text NOT NULL CHECK (status IN ('queued', 'published', 'running', 'finished')),
  verdict            text CHECK (verdict IN ('pass', 'fail', 'error', 'inconclusive')),
  request            jsonb NOT NULL,
  scheduled_at       timestamptz NOT NULL,
  not_before         timestamptz NOT NULL,
  published_at       timestamptz,
  started_at         timestamptz,
  finished_at        timestamptz,
  probe_id           text,
  attempt            integer,
  duration_ms        double precision,
  error_code         text,
  error_message      text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((verdict IS NULL) = (status <> 'finished'))
);
CREATE INDEX runs_outbox ON runs (not_before) WHERE published_at IS NULL;
CREATE INDEX runs_by_time ON runs (scheduled_at DESC);
CREATE INDEX runs_by_journey ON runs (journey_id, scheduled_at DESC);
CREATE INDEX runs_by_target ON runs (target_id, scheduled_at DESC);

-- Every event a probe reported, per delivery attempt. (run_id, attempt, seq) makes resubmission idempotent.
CREATE TABLE run_events (
  run_id      text NOT NULL REFERENCES runs(id),
  attempt     integer NOT NULL,
  seq         bigint NOT NULL,
  kind        text NOT NULL,
  at          timestamptz NOT NULL,
  probe_id    text NOT NULL,
  body        jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, attempt, seq)
);
CREATE TRIGGER run_events_immutable BEFORE UPDATE ON run_events
  FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();

CREATE TABLE probe_tokens (
  id           text PRIMARY KEY,
  token_sha256 text NOT NULL UNIQUE,
  label        text NOT NULL,
  region       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

CREATE TABLE probes (
  id                text PRIMARY KEY,
  region            text NOT NULL,
  version           text NOT NULL,
  contract_version  integer NOT NULL,
  capabilities      text[] NOT NULL,
  hostname          text NOT NULL,
  token_id          text NOT NULL REFERENCES probe_tokens(id),
  in_flight         integer NOT NULL DEFAULT 0,
  registered_at     timestamptz NOT NULL,
  last_heartbeat_at timestamptz NOT NULL
);
