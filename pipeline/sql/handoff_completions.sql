-- aggregate: the first event that did each hand-off (pipeline/closedloop/handoffs.py): for a
-- promise the contact's next callback_done, for a transfer the contact's next event made by the
-- receiving department (names compared without case and surrounding spaces); and whether that
-- event sent the hand-off back to its sender. Tables: handoff_list, known_events.
SELECT
    h.handoff_id,
    e.event_at AS done_at,
    e.event_type AS done_by,
    coalesce(
        e.event_type IN ('transferred', 'assigned', 'escalated')
        AND lower(trim(e.to_department)) = lower(trim(h.from_department)),
        false
    ) AS returned_to_sender
FROM handoff_list AS h
JOIN known_events AS e
    ON e.contact_id = h.contact_id
    AND e.event_at >= h.handed_at
    AND e.event_id <> h.handoff_id
WHERE CASE
    WHEN h.handoff_type = 'promise' THEN e.event_type = 'callback_done'
    ELSE coalesce(lower(trim(e.from_department)) = lower(trim(h.department)), false)
END
QUALIFY row_number() OVER (PARTITION BY h.handoff_id ORDER BY e.event_at, e.event_id) = 1
ORDER BY h.handoff_id;
