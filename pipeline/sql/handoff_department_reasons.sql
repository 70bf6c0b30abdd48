-- investigate: contact reasons of a department's settled hand-offs over weeks, the lost first.
-- Parameters: $department, $weeks.
SELECT
    h.reason_id,
    any_value(r.title) AS reason_title,
    count(*) AS settled,
    count(*) FILTER (WHERE h.fate = 'lost') AS lost,
    count(*) FILTER (WHERE h.fate = 'lost') / count(*) AS lost_share,
    CAST(coalesce(sum(h.came_back) FILTER (WHERE h.fate = 'lost'), 0) AS BIGINT) AS lost_came_back
FROM handoffs AS h
LEFT JOIN reasons AS r ON r.reason_id = h.reason_id
WHERE h.department = $department AND list_contains($weeks, h.settled_week)
GROUP BY h.reason_id
ORDER BY lost DESC, settled DESC, h.reason_id;
