-- Unanswered calls (dropped or abandoned) and all calls by queue and local hour over the given
-- weeks (report). Parameters: $weeks (list of ISO weeks).
SELECT queue, local_hour, sum(dropped + abandoned) AS lost, sum(calls) AS calls
FROM drops
WHERE list_contains($weeks, iso_week)
GROUP BY ALL;
