-- Baselines (a journey's accepted behaviour on a target in a region, versioned, never edited: re-baselining
-- adds a version with who and why) and drift alarms raised against them (one per detector and baseline).

CREATE TABLE baselines (
  id          text PRIMARY KEY,
  journey_id  text NOT NULL REFERENCES journeys(id),
  target_id   text NOT NULL REFERENCES targets(id),
  region      text NOT NULL,
  version     integer NOT NULL,
  since       timestamptz NOT NULL,
  until       timestamptz NOT NULL,
  runs        integer NOT NULL,
  stats       jsonb NOT NULL,
  created_by  text NOT NULL,
  reason      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (journey_id, target_id, region, version)
);
CREATE TRIGGER baselines_immutable BEFORE UPDATE OR DELETE ON baselines FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();

CREATE TABLE drift_alarms (
  baseline_id    text NOT NULL REFERENCES baselines(id),
  detector       text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('latency', 'pass_rate')),
  direction      text NOT NULL,
  change_run_id  text REFERENCES runs(id),
  change_at      timestamptz,
  alarm_run_id   text NOT NULL REFERENCES runs(id),
  ratio          double precision,
  p_value        double precision,
  raised_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (baseline_id, detector)
);
