-- Contacts with text in the given weeks that the classifier was unsure about: left
-- "не определено" (below the threshold) or among the $quantile least confident. top_reason_id
-- is the model's guess (reason_id of a contact left "не определено" is that reason).
-- Used by investigate (uncertain contacts) and the report (emerging topics): one definition.
-- Parameters: $weeks (list of ISO weeks), $quantile (0..1).
WITH texts AS (
    SELECT
        contact_id, iso_week, created_local, kind, channel, queue, reason_id, top_reason_id,
        runner_up_id, class_status, confidence, text
    FROM contacts
    WHERE list_contains($weeks, iso_week)
        AND class_status IN ('classified', 'below_threshold')
        AND text IS NOT NULL
),
cut AS (
    SELECT quantile_cont(confidence, $quantile) AS cutoff FROM texts
),
final AS (
    SELECT texts.*, cut.cutoff
    FROM texts, cut
    WHERE texts.class_status = 'below_threshold' OR texts.confidence <= cut.cutoff
)
SELECT * FROM final
ORDER BY created_local, contact_id;
