-- Contacts the classifier assigned to a reason of the taxonomy, per ISO week x reason: the
-- observed counts that the estimated volumes correct for the classifier's errors
-- (pipeline/model/quantify.py). «Не определено» (the reserved reason: below the confidence threshold
-- or outside the taxonomy) and contacts without text are not attributed to any reason.
-- Tables read: contacts, reasons.
WITH assigned AS (
    SELECT c.iso_week, c.reason_id
    FROM contacts AS c
    JOIN reasons AS r USING (reason_id)
    WHERE NOT r.reserved AND c.class_status <> 'no_text'
),
final AS (
    SELECT iso_week, reason_id, count(*) AS contacts
    FROM assigned
    GROUP BY ALL
)
SELECT * FROM final ORDER BY iso_week, reason_id;
