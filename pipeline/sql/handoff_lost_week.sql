-- report: the hand-offs lost in a week (their limit ran out in it), with the contact's reason
-- and text (masked again by the report), the department that lost them first.
-- Parameters: $week, $n.
SELECT
    h.department,
    h.handoff_type,
    h.from_department,
    h.contact_id,
    h.reason_id,
    timezone(r.tz, h.handed_at) AS handed_local,
    timezone(r.tz, h.promised_at) AS promised_local,
    timezone(r.tz, h.lost_at) AS lost_local,
    timezone(r.tz, h.done_at) AS done_local,
    h.came_back,
    c.text
FROM handoffs AS h
LEFT JOIN contacts AS c USING (contact_id)
CROSS JOIN (
    SELECT coalesce(json_extract_string(params, '$.sla.timezone'), 'Europe/Moscow') AS tz
    FROM run_info
) AS r
WHERE h.fate = 'lost' AND h.settled_week = $week
ORDER BY h.department, h.lost_at, h.handoff_id
LIMIT $n;
