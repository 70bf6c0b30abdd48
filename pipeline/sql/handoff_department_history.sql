-- investigate: a department's hand-off fates per week. Parameters: $department, $weeks.
SELECT *
FROM handoff_department_weeks
WHERE department = $department AND list_contains($weeks, iso_week)
ORDER BY iso_week;
