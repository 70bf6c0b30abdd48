"""Contact-reason root-cause analytics pipeline."""
