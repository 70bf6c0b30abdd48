-- The $n contacts with text the classifier was least sure about in the given weeks.
-- Parameters: $weeks (list of ISO weeks), $n.
SELECT
    c.contact_id, c.iso_week, c.channel, c.kind, c.class_status, c.confidence,
    c.reason_id, c.reason_title, c.runner_up_id, r.title AS runner_up_title, c.text
FROM contacts AS c
LEFT JOIN reasons AS r ON r.reason_id = c.runner_up_id
WHERE list_contains($weeks, c.iso_week) AND c.text IS NOT NULL AND c.confidence IS NOT NULL
ORDER BY c.confidence, c.contact_id
LIMIT $n;
