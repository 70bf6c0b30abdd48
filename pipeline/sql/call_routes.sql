-- Answered calls of one reason with the queues they passed (route NULL = not transferred).
-- Parameters: $reason_id, $weeks (list of ISO weeks).
SELECT
    iso_week,
    contact_id,
    coalesce(route, queue, '(без очереди)') AS path,
    coalesce(transfers, 0) AS transfers
FROM contacts
WHERE kind = 'call' AND outcome = 'answered' AND reason_id = $reason_id
    AND list_contains($weeks, iso_week)
ORDER BY iso_week, contact_id;
