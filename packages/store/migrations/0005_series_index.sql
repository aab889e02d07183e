-- Drift reads a series' finished runs in finish order after a point (on every run that finishes, and a page at
-- a time when the plane restarts); without this index each read scanned every run of the journey.

CREATE INDEX runs_series_finished ON runs (journey_id, target_id, region, finished_at, id) WHERE status = 'finished';
