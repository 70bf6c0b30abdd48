-- aggregate: the hand-off events the fates need: from the first week whose hand-offs can still
-- settle in the trend window up to the end of the report week. Parameters: $since, $as_of.
SELECT event_id, contact_id, event_at, event_type, from_department, to_department, promised_at
FROM handoff_events
WHERE event_at >= $since AND event_at <= $as_of
ORDER BY event_at, event_id;
