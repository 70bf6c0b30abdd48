-- The report week and repeat window of the run that built the warehouse.
SELECT report_week, repeat_window_days
FROM run_info;
