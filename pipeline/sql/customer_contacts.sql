-- Every contact, from the start of $week on, of the customers who contacted about $reason_id
-- in $week: the material repeat chains are built from. Reason NULL = contact without text.
WITH starters AS (
    SELECT DISTINCT customer_id
    FROM contacts
    WHERE reason_id = $reason_id AND iso_week = $week AND customer_id IS NOT NULL
),
week_start AS (
    SELECT min(week_start) AS day FROM contacts WHERE iso_week = $week
),
final AS (
    SELECT
        c.customer_id, c.contact_id, c.created_at, c.iso_week, c.reason_id,
        c.repeat_observed
    FROM contacts AS c
    JOIN starters USING (customer_id)
    WHERE c.week_start >= (SELECT day FROM week_start)
)
SELECT * FROM final
ORDER BY customer_id, created_at, contact_id;
