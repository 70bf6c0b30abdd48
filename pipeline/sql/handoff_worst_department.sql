-- investigate: receiving departments by their share of lost hand-offs settled in a week (those
-- that settled at least $min_settled first). Parameters: $week, $min_settled.
SELECT department, settled, lost, lost_share
FROM handoff_department_weeks
WHERE iso_week = $week AND settled > 0
ORDER BY settled >= $min_settled DESC, lost_share DESC, lost DESC, department;
