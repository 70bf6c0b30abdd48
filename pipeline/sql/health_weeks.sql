-- Contacts with text per ISO week and reason, for `python -m pipeline taxonomy health`:
-- the share of "не определено" (class_status = 'below_threshold') and reasons gone quiet.
WITH final AS (
    SELECT iso_week, reason_id, class_status, count(*) AS contacts
    FROM contacts
    WHERE class_status IN ('classified', 'below_threshold')
    GROUP BY ALL
)
SELECT * FROM final ORDER BY iso_week, reason_id, class_status;
