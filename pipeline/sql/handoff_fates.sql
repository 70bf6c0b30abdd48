-- aggregate: every hand-off (handoff_frame, its fate from pipeline/closedloop/handoffs.py) with
-- the contact it belongs to and the client's other contacts while it waited: came_back counts
-- the same customer's contacts after the hand-off and before it was done (or before $as_of).
-- Parameters: $as_of (the end of the report week, UTC).
CREATE OR REPLACE TABLE handoffs AS
SELECT
    h.*,
    c.reason_id,
    c.customer_id,
    c.iso_week AS contact_week,
    (
        SELECT count(*)
        FROM contacts AS o
        WHERE o.customer_id = c.customer_id
          AND o.contact_id <> h.contact_id
          AND o.created_at > h.handed_at
          AND o.created_at <= coalesce(h.done_at, $as_of)
    ) AS came_back
FROM handoff_frame AS h
LEFT JOIN contacts AS c USING (contact_id)
ORDER BY h.handed_at, h.handoff_id;
