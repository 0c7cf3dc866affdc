"""Alarms: which incidents raise one, which cameras see them, the queue, the response clock."""
