"""The reason list and the labels: schema, label files, reason edits, labelling, health."""
