-- Weekly facts: ISO week x reason x channel. reason_id is NULL for contacts without text
-- (dropped calls), which are counted but never given a reason.
CREATE OR REPLACE TABLE weekly AS
WITH facts AS (
    SELECT
        iso_week, week_start, reason_id, channel,
        count(*) AS contacts,
        count(DISTINCT customer_id) AS customers_contacting,
        sum(handle_minutes) AS handle_minutes,
        sum(cost) AS cost,
        sum(CASE WHEN repeat_observed THEN 1 ELSE 0 END) AS repeat_observed,
        sum(CASE WHEN repeat_observed AND repeated THEN 1 ELSE 0 END) AS repeats,
        sum(CASE WHEN repeat_observed THEN repeat_cost ELSE 0 END) AS repeat_cost,
        sum(CASE WHEN kind = 'call' AND outcome = 'answered' THEN 1 ELSE 0 END) AS answered_calls,
        sum(CASE WHEN kind = 'call' AND outcome = 'answered' THEN transfers ELSE 0 END)
            AS transfers,
        sum(CASE WHEN kind = 'call' AND outcome = 'answered' AND transfers >= 2 THEN 1 ELSE 0 END)
            AS calls_2plus_transfers
    FROM contacts
    GROUP BY ALL
),
week_totals AS (
    SELECT iso_week, sum(contacts) AS week_contacts FROM facts GROUP BY iso_week
)
SELECT
    f.*,
    f.contacts / t.week_contacts AS share,
    d.customers,
    1000.0 * f.contacts / d.customers AS cpx
FROM facts AS f
JOIN week_totals AS t USING (iso_week)
LEFT JOIN drivers AS d USING (iso_week)
ORDER BY iso_week, reason_id NULLS LAST, channel;
