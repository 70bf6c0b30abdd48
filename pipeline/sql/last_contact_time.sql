-- Local time of the latest contact (aggregate: the default report week is the last complete
-- week). Tables read: contacts.
SELECT max(created_local)
FROM contacts;
