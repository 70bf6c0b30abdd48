-- Why ingest quarantined rows: count and one example per reason code (report).
SELECT reason_code, count(*) AS n, any_value(reason) AS example
FROM quarantine
GROUP BY 1
ORDER BY n DESC, 1;
