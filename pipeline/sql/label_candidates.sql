-- Contacts a labeller could usefully look at: the latest $weeks ISO weeks, with text.
-- Read by `python -m pipeline taxonomy export-labeling` from data/warehouse.duckdb.
-- Parameters: $weeks (how many of the latest ISO weeks).
WITH recent_weeks AS (
    SELECT DISTINCT iso_week FROM contacts
    WHERE class_status IN ('classified', 'below_threshold')
    ORDER BY iso_week DESC
    LIMIT $weeks
),
final AS (
    SELECT
        c.contact_id, c.kind, c.channel, c.iso_week, c.text,
        c.reason_id, c.class_status, c.confidence, c.runner_up_id
    FROM contacts AS c
    JOIN recent_weeks USING (iso_week)
    WHERE c.class_status IN ('classified', 'below_threshold')
      AND c.text IS NOT NULL AND trim(c.text) <> ''
)
SELECT * FROM final ORDER BY contact_id;
