-- A reason's most frequent transfers between queues over the given weeks (report).
-- Parameters: $reason_id, $weeks (list of ISO weeks), $n.
SELECT from_queue, to_queue, sum(transfers) AS n
FROM transfer_pairs
WHERE reason_id = $reason_id AND list_contains($weeks, iso_week)
GROUP BY 1, 2
ORDER BY n DESC, 1, 2
LIMIT $n;
