-- What customers come back with after a reason, over the given weeks (report).
-- Parameters: $reason_id, $weeks (list of ISO weeks).
SELECT repeat_reason_id, sum(repeats) AS n
FROM repeats
WHERE reason_id = $reason_id AND list_contains($weeks, iso_week)
GROUP BY 1
ORDER BY n DESC, 1
LIMIT 6;
