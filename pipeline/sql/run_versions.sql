-- Model and taxonomy versions the contacts were classified with (aggregate: run_info).
-- Tables read: contacts.
SELECT any_value(model_version), any_value(taxonomy_version)
FROM contacts;
