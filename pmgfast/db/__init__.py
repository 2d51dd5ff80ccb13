"""pmgfast's PostgreSQL state: connections, the embedded server and versioned migrations."""
