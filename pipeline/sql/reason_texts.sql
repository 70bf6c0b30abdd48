-- Texts (personal data already masked) of one reason's contacts in the given weeks.
-- Parameters: $reason_id, $weeks (list of ISO weeks).
SELECT contact_id, iso_week, created_local, kind, channel, queue, confidence, text
FROM contacts
WHERE reason_id = $reason_id AND list_contains($weeks, iso_week) AND text IS NOT NULL
ORDER BY created_at, contact_id;
