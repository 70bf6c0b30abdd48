-- aggregate: contacts per reason in the weeks a reason's hand-off rate is measured over.
-- Parameters: $weeks (ISO weeks).
SELECT reason_id, count(*) AS contacts
FROM contacts
WHERE list_contains($weeks, iso_week)
GROUP BY reason_id
ORDER BY reason_id;
