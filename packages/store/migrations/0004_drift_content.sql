-- Drift, second part: content, new-failure-mode and audio-quality alarms, the layer each alarm names and what backs it
-- (distance and threshold, the failure signature, the target version change it lines up with); and the
-- notifications sent for them (alert history: what went to which webhook, when, and whether it was taken).

ALTER TABLE drift_alarms DROP CONSTRAINT drift_alarms_kind_check;
ALTER TABLE drift_alarms ADD CONSTRAINT drift_alarms_kind_check CHECK (kind IN ('latency', 'pass_rate', 'content', 'new_failure', 'quality'));
ALTER TABLE drift_alarms ADD COLUMN layer text;
ALTER TABLE drift_alarms ADD COLUMN detail jsonb;

CREATE TABLE drift_notifications (
  id           bigserial PRIMARY KEY,
  baseline_id  text NOT NULL REFERENCES baselines(id),
  status       text NOT NULL CHECK (status IN ('firing', 'resolved')),
  webhook      text NOT NULL,
  detectors    text[] NOT NULL,
  delivered    boolean NOT NULL,
  http_status  integer,
  attempts     integer NOT NULL,
  error        text,
  sent_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drift_notifications_baseline ON drift_notifications (baseline_id, sent_at);
