-- investigate: who handed a department the hand-offs it settled over weeks, and how many of
-- them it lost, by kind (transfer or promised call-back). Parameters: $department, $weeks.
SELECT
    coalesce(from_department, '(не указан)') AS from_department,
    handoff_type,
    count(*) AS settled,
    count(*) FILTER (WHERE fate = 'lost') AS lost,
    count(*) FILTER (WHERE fate = 'lost') / count(*) AS lost_share
FROM handoffs
WHERE department = $department AND list_contains($weeks, settled_week)
GROUP BY ALL
ORDER BY lost DESC, settled DESC, from_department, handoff_type;
