-- A reason's most confidently classified contacts with text in a week (report: examples).
-- Parameters: $reason_id, $week, $n.
SELECT created_local, channel, confidence, text
FROM contacts
WHERE reason_id = $reason_id AND iso_week = $week AND text IS NOT NULL
ORDER BY confidence DESC, contact_id
LIMIT $n;
