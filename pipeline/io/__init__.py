"""Reading the outside world: export tables (CSV, XLSX, JSON, JSONL) and ISO weeks."""
