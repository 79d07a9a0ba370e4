"""In-app inbox and email notifications (SMTP in production, an outbox folder in the embedded default)."""
