-- Conventions applied to the written requests (report, data-quality section): resolution
-- dates without a time (read as the end of that day), «closed» without a resolution time
-- (a missed deadline once due), «open» with a resolution time (open: the status wins).
-- Tables read: contacts.
SELECT
    count(*) FILTER (WHERE kind = 'complaint') AS requests,
    count(*) FILTER (WHERE resolved_date_only) AS date_only_resolutions,
    count(*) FILTER (WHERE status_conflict = 'closed_without_time') AS closed_without_time,
    count(*) FILTER (WHERE status_conflict = 'open_with_time') AS open_with_time
FROM contacts;
