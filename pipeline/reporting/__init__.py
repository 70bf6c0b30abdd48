"""The report's pieces: Russian number and date formatting, charts, templates, static assets."""
