-- Which reasons customers come back with: original reason -> reason of the next contact within
-- the repeat window, over contacts whose window is fully observed.
CREATE OR REPLACE TABLE repeats AS
SELECT
    iso_week,
    reason_id,
    coalesce(repeat_reason_id, '(без текста)') AS repeat_reason_id,
    count(*) AS repeats,
    sum(repeat_cost) AS repeat_cost
FROM contacts
WHERE repeated AND repeat_observed AND reason_id IS NOT NULL
GROUP BY ALL
ORDER BY iso_week, reason_id, repeats DESC, repeat_reason_id;
