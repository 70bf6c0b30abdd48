-- ISO weeks of the weekly facts (aggregate), oldest first. Tables read: weekly.
SELECT DISTINCT iso_week
FROM weekly
ORDER BY iso_week;
