-- The run that built the warehouse, as the report prints it (report): report week, level of the
-- volume interval, model and taxonomy versions, when SLA was computed.
SELECT report_week, volume_interval, model_version, taxonomy_version, sla_as_of
FROM run_info;
