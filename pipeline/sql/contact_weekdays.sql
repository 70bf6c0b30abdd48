-- ISO weekdays (1 = Monday … 7 = Sunday, local time) on which the data has any contact
-- (aggregate: a desk closed on Sundays still has complete weeks). Tables read: contacts.
SELECT DISTINCT isodow(created_local) AS weekday
FROM contacts
ORDER BY weekday;
