-- The model version the warehouse's contacts were classified with (taxonomy export-labeling:
-- Label Studio tasks carry it). Tables read: contacts.
SELECT any_value(model_version)
FROM contacts;
