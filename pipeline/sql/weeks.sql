-- ISO weeks that have any contact, oldest first.
SELECT DISTINCT iso_week
FROM contacts
ORDER BY iso_week;
