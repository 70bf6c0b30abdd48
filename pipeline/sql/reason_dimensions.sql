-- Contacts of one reason per week and per value of each dimension a rise can be cut by.
-- Parameters: $reason_id, $weeks (list of ISO weeks).
WITH picked AS (
    SELECT
        iso_week,
        channel,
        coalesce(queue, '(без очереди)') AS queue,
        kind,
        lpad(CAST(local_hour AS VARCHAR), 2, '0') AS local_hour
    FROM contacts
    WHERE reason_id = $reason_id AND list_contains($weeks, iso_week)
),
long AS (
    UNPIVOT picked
    ON channel, queue, kind, local_hour
    INTO NAME dimension VALUE value
),
final AS (
    SELECT iso_week, dimension, value, count(*) AS contacts
    FROM long
    GROUP BY ALL
)
SELECT * FROM final
ORDER BY iso_week, dimension, value;
