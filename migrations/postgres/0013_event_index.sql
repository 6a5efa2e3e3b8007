-- One index serves both the sender's event identity and the namespace's
-- time-ordered reads: (namespace_id, at, source_id) for every event, its
-- prefix (namespace_id, at) being what `pull_events_ns_at` held. Events
-- without a sender id (the hub's own registry) have a NULL source_id, and
-- NULLs are distinct in a unique index, so they never conflict. One index
-- entry fewer per stored event.
DROP INDEX pull_events_ns_at;
DROP INDEX pull_events_source;
CREATE UNIQUE INDEX pull_events_source ON pull_events (namespace_id, at, source_id);
