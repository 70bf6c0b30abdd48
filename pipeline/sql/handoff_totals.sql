-- report: the week's hand-off totals (the page's headline): received in the week, settled in
-- it by fate, still open at its end, clients who came back while a lost hand-off waited.
-- Parameters: $week.
SELECT
    count(*) FILTER (WHERE received_week = $week) AS received,
    count(*) FILTER (WHERE settled_week = $week) AS settled,
    count(*) FILTER (WHERE settled_week = $week AND fate = 'on_time') AS on_time,
    count(*) FILTER (WHERE settled_week = $week AND fate = 'late') AS late,
    count(*) FILTER (WHERE settled_week = $week AND fate = 'lost') AS lost,
    count(*) FILTER (WHERE fate = 'open') AS open,
    count(*) FILTER (WHERE settled_week = $week AND fate = 'lost' AND handoff_type = 'promise')
        AS lost_promises,
    count(*) FILTER (WHERE settled_week = $week AND handoff_type = 'promise') AS settled_promises,
    coalesce(sum(came_back) FILTER (WHERE settled_week = $week AND fate = 'lost'), 0)
        AS lost_came_back
FROM handoffs;
