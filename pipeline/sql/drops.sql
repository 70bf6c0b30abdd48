-- Calls that never reached anyone, by queue and local hour of day.
CREATE OR REPLACE TABLE drops AS
SELECT
    iso_week,
    queue,
    local_hour,
    count(*) AS calls,
    sum(CASE WHEN outcome = 'dropped' THEN 1 ELSE 0 END) AS dropped,
    sum(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END) AS abandoned,
    sum(CASE WHEN outcome IN ('dropped', 'abandoned') THEN 1 ELSE 0 END) / count(*) AS lost_share
FROM contacts
WHERE kind = 'call'
GROUP BY ALL
ORDER BY iso_week, queue, local_hour;
