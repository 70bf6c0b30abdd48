"""The closed loop's numbers: SLA deadlines, trends and spikes, owner notes, reason metrics."""
