-- The params.yaml values the aggregate run used, as JSON (report: the windows, targets and
-- limits the pages print).
SELECT params
FROM run_info;
