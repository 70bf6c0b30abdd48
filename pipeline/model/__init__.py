"""The reason classifier: features, the linear model, its training and prevalence estimates."""
