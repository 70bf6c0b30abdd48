-- Closed loop (aggregate): with which reason customers came back within the repeat window,
-- per original reason, over the given weeks; most frequent first.
-- Parameters: $weeks (list of ISO weeks). Tables read: repeats.
SELECT reason_id, repeat_reason_id, sum(repeats) AS n
FROM repeats
WHERE list_contains($weeks, iso_week)
GROUP BY ALL
ORDER BY reason_id, n DESC, repeat_reason_id;
