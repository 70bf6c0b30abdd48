-- investigate: the hand-offs a department lost in a week, with the contact's reason and text
-- (masked again by the caller). Parameters: $department, $week.
SELECT
    h.handoff_type,
    h.from_department,
    h.contact_id,
    h.reason_id,
    r.title AS reason_title,
    h.handed_at,
    h.promised_at,
    h.lost_at,
    h.done_at,
    h.came_back,
    c.text
FROM handoffs AS h
LEFT JOIN contacts AS c USING (contact_id)
LEFT JOIN reasons AS r ON r.reason_id = h.reason_id
WHERE h.department = $department AND h.fate = 'lost' AND h.settled_week = $week
ORDER BY h.lost_at, h.handoff_id;
